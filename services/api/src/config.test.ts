import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      redisUrl: 'redis://localhost:6379',
      downloadsDir: './downloads',
      chunkSize: 25,
      bodyLimitBytes: 65_536,
      logLevel: 'info',
      redisTimeoutMs: 1_000,
      sseHeartbeatMs: 15_000,
      shutdownTimeoutMs: 10_000,
      observability: { metricsEnabled: true, otlpEndpoint: undefined, serviceName: 'flagship-api' },
    });
  });

  it('reads and coerces variables, treating empty strings as unset', () => {
    const config = loadConfig({ PORT: '8080', CHUNK_SIZE: '10', LOG_LEVEL: 'debug', HOST: '' });
    expect(config).toMatchObject({ port: 8080, chunkSize: 10, logLevel: 'debug', host: '0.0.0.0' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['CHUNK_SIZE', '0'],
    ['REDIS_URL', 'http://example.com'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
