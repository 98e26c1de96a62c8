import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      redis: { mode: 'standalone', url: 'redis://localhost:6379' },
      downloadsDir: './downloads',
      store: { kind: 'fs', directory: './downloads' },
      flagDelivery: { mode: 'stream', urlTtlSeconds: 60 },
      chunkSize: 25,
      bodyLimitBytes: 65_536,
      logLevel: 'info',
      redisTimeoutMs: 1_000,
      sseHeartbeatMs: 15_000,
      shutdownTimeoutMs: 10_000,
      observability: { metricsEnabled: true, otlpEndpoint: undefined, serviceName: 'flagship-api' },
      metricsScope: 'public',
      downloadRetention: { ageSeconds: 86_400, count: 10_000 },
      idempotencyTtlSeconds: 86_400,
      apiKeys: [],
      rateLimit: { max: 0, windowMs: 60_000 },
    });
  });

  it('reads the S3 store and the redirect delivery', () => {
    const config = loadConfig({
      STORE: 's3',
      S3_BUCKET: 'flags',
      S3_ENDPOINT: 'http://127.0.0.1:7480',
      FLAG_DELIVERY: 'redirect',
      FLAG_URL_TTL_S: '30',
    });
    expect(config.store).toMatchObject({ kind: 's3', bucket: 'flags', endpoint: 'http://127.0.0.1:7480' });
    expect(config.flagDelivery).toEqual({ mode: 'redirect', urlTtlSeconds: 30 });
  });

  it.each([
    [{ FLAG_DELIVERY: 'redirect' }, /FLAG_DELIVERY=redirect needs STORE=s3/],
    [{ FLAG_DELIVERY: 'link' }, /FLAG_DELIVERY must be equal to one of the allowed values/],
    [{ STORE: 's3', S3_BUCKET: 'flags', FLAG_URL_TTL_S: '0' }, /FLAG_URL_TTL_S must be >= 1/],
  ])('refuses %j with an error that names the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads the retention and the idempotency window', () => {
    const config = loadConfig({ DOWNLOAD_RETENTION_S: '60', DOWNLOAD_RETENTION_COUNT: '5', IDEMPOTENCY_TTL_S: '30' });
    expect(config).toMatchObject({ downloadRetention: { ageSeconds: 60, count: 5 }, idempotencyTtlSeconds: 30 });
  });

  it('reads API keys (hashed) and the rate limit', () => {
    const config = loadConfig({
      API_KEYS: 'ops:0123456789abcdef0123:admin',
      RATE_LIMIT_MAX: '100',
      RATE_LIMIT_WINDOW_MS: '1000',
    });
    expect(config.apiKeys.map((key) => key.name)).toEqual(['ops']);
    expect(JSON.stringify(config)).not.toContain('0123456789abcdef0123');
    expect(config.rateLimit).toEqual({ max: 100, windowMs: 1_000 });
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
    ['REDIS_URL', 'redis+sentinel://s1:26379'],
    ['REDIS_URL', 'redis+cluster://n1:6379/2'],
    ['REDIS_SENTINELS', 's1:26379'],
    ['REDIS_CLUSTER_NODES', 'n1:99999'],
    ['DOWNLOAD_RETENTION_S', '0'],
    ['DOWNLOAD_RETENTION_COUNT', 'many'],
    ['IDEMPOTENCY_TTL_S', '-1'],
    ['API_KEYS', 'ops:short:admin'],
    ['API_KEYS', 'ops:0123456789abcdef0123:root'],
    ['RATE_LIMIT_MAX', '-1'],
    ['RATE_LIMIT_WINDOW_MS', '10'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
