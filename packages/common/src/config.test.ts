import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { loadEnv, LogLevelSchema, observabilityConfig, observabilityEnvSchema } from './config.ts';
import { ConfigError } from '@flagship/runtime';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }),
  NAME: Type.String({ default: 'x' }),
  LOG_LEVEL: LogLevelSchema,
});

describe('loadEnv', () => {
  it('applies defaults, coerces numbers and freezes the result', () => {
    const config = loadEnv(Schema, { PORT: '8080', UNRELATED: 'y' });
    expect(config).toEqual({ PORT: 8080, NAME: 'x', LOG_LEVEL: 'info' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadEnv(Schema, { PORT: '', LOG_LEVEL: '' })).toMatchObject({ PORT: 3000, LOG_LEVEL: 'info' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '1.5' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('throws a ConfigError naming the variable for %j', (env, name) => {
    expect(() => loadEnv(Schema, env)).toThrow(ConfigError);
    expect(() => loadEnv(Schema, env)).toThrow(name);
  });

  it('does not read process.env', () => {
    process.env.NAME = 'from-process';
    try {
      expect(loadEnv(Schema, {}).NAME).toBe('x');
    } finally {
      delete process.env.NAME;
    }
  });
});

describe('observability variables', () => {
  const Observability = Type.Object(observabilityEnvSchema('flagship-test'));
  const read = (env: Record<string, string>) => observabilityConfig(loadEnv(Observability, env));

  it('serve metrics and leave tracing off by default', () => {
    expect(read({})).toEqual({ metricsEnabled: true, otlpEndpoint: undefined, serviceName: 'flagship-test' });
  });

  it('read METRICS_ENABLED, the OTLP endpoint and the service name', () => {
    expect(
      read({
        METRICS_ENABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SERVICE_NAME: 'api-eu',
      }),
    ).toEqual({ metricsEnabled: false, otlpEndpoint: 'http://collector:4318', serviceName: 'api-eu' });
  });

  it.each([
    ['METRICS_ENABLED', 'no'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
  ])('refuse %s=%s', (name, value) => {
    expect(() => read({ [name]: value })).toThrow(name);
  });
});
