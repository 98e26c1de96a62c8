// Typed, validated configuration from environment variables. Each service declares a
// TypeBox schema of the variables it reads (with defaults and descriptions) and calls
// `loadEnv(schema, env)` once in main.ts; a bad value stops the start with an error
// that names the variable.
//
// Here and not in @flagship/runtime: env-schema (ajv) and TypeBox would add about 5 MB
// to the heap of the echo, which imports the runtime alone to keep its heap small. The
// services that use loadEnv (api, worker, origin) load this package, and TypeBox with
// it, anyway.
import { envSchema } from 'env-schema';
import { Type, type Static, type TSchema } from 'typebox';
import { ConfigError, LOG_LEVELS, type LogLevel } from '@flagship/runtime';

export function loadEnv<S extends TSchema>(schema: S, env: Record<string, string | undefined>): Readonly<Static<S>> {
  // env-schema mutates its input (coercion, defaults): give it a copy, and treat an
  // empty string like an unset variable so `FOO=` in compose means "use the default".
  const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  try {
    const config = envSchema<Static<S>>({ schema: schema as object, data, env: false, dotenv: false });
    return Object.freeze(config);
  } catch (error) {
    // ajv names the variable as a JSON pointer into the data (`env/PORT`): name it plainly.
    const message = (error as Error).message.replace(/(^|,\s*)env\//g, '$1');
    throw new ConfigError(`invalid configuration: ${message}`, { cause: error });
  }
}

/** The `LOG_LEVEL` variable every service reads: one of pino's levels, default `info`. */
export const LogLevelSchema = Type.Unsafe<LogLevel>({
  type: 'string',
  enum: [...LOG_LEVELS],
  default: 'info',
  description: 'pino log level',
});

/**
 * The variables of metrics and tracing that the api and the worker read alike, to
 * spread into their schemas: METRICS_ENABLED, OTEL_EXPORTER_OTLP_ENDPOINT (tracing is on
 * when it is set) and OTEL_SERVICE_NAME.
 */
export function observabilityEnvSchema(defaultServiceName: string) {
  return {
    METRICS_ENABLED: Type.Boolean({
      default: true,
      description: 'Serve Prometheus metrics (true or false); false also skips measuring',
    }),
    OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s]+$',
        description: 'OTLP/HTTP collector base URL: traces go to {it}/v1/traces (protobuf); unset: no tracing',
      }),
    ),
    OTEL_SERVICE_NAME: Type.String({ minLength: 1, default: defaultServiceName, description: 'service.name of spans' }),
  };
}

export interface ObservabilityConfig {
  metricsEnabled: boolean;
  /** OTLP/HTTP base URL; undefined: tracing is off. */
  otlpEndpoint: string | undefined;
  serviceName: string;
}

export function observabilityConfig(raw: {
  METRICS_ENABLED: boolean;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME: string;
}): Readonly<ObservabilityConfig> {
  return Object.freeze({
    metricsEnabled: raw.METRICS_ENABLED,
    otlpEndpoint: raw.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: raw.OTEL_SERVICE_NAME,
  });
}
