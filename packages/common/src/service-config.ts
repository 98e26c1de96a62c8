// The settings every flag service (the API and the worker) reads alike: where Redis is,
// which flag store, the log level, and metrics and tracing. Each service spreads
// `serviceEnvSchema` into its own env schema and `serviceConfig` into its own config,
// so that a shared variable is declared, and turned into a setting, in one place only.
// DOWNLOADS_DIR stays with each service: its description says what that service does
// with the folder.
import type { LogLevel } from '@flagship/runtime';
import { Type, type Static } from 'typebox';
import { LogLevelSchema, observabilityConfig, observabilityEnvSchema, type ObservabilityConfig } from './config.ts';
import { RedisEnvSchema, redisEndpointFromEnv, type RedisEndpoint } from './redis-endpoint.ts';
import { FlagStoreEnvSchema, flagStoreConfig, type FlagStoreConfig } from './store-config.ts';

/**
 * The shared variables, to spread into a service's env schema: REDIS_* (redis-endpoint.ts),
 * STORE and S3_* (store-config.ts), LOG_LEVEL, METRICS_ENABLED and OTEL_* (config.ts).
 * `defaultServiceName` is OTEL_SERVICE_NAME's default.
 */
export function serviceEnvSchema(defaultServiceName: string) {
  return {
    ...RedisEnvSchema,
    ...FlagStoreEnvSchema,
    LOG_LEVEL: LogLevelSchema,
    ...observabilityEnvSchema(defaultServiceName),
  };
}

/** The shared variables once loaded (a service's loaded env has at least these). */
export type ServiceEnv = Static<ReturnType<typeof Type.Object<ReturnType<typeof serviceEnvSchema>>>>;

/** The settings every flag service has, from the shared variables. */
export interface ServiceConfig {
  /** Where Redis is: one node, a Sentinel-watched master or a Cluster (REDIS_URL and friends). */
  redis: Readonly<RedisEndpoint>;
  /** Where flags are saved and read: the local folder (DOWNLOADS_DIR) or an S3 bucket. */
  store: Readonly<FlagStoreConfig>;
  logLevel: LogLevel;
  /** Metrics and tracing (OTLP) settings. */
  observability: Readonly<ObservabilityConfig>;
}

/** The shared settings of a loaded env (`downloadsDir`: the service's DOWNLOADS_DIR, the fs store's folder). */
export function serviceConfig(raw: ServiceEnv, downloadsDir: string): ServiceConfig {
  return {
    redis: redisEndpointFromEnv(raw),
    store: flagStoreConfig(raw, downloadsDir),
    logLevel: raw.LOG_LEVEL,
    observability: observabilityConfig(raw),
  };
}
