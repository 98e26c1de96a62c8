import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      redis: { mode: 'standalone', url: 'redis://localhost:6379' },
      originUrl: 'http://localhost:8080/data/flags',
      downloadsDir: './downloads',
      store: { kind: 'fs', directory: './downloads' },
      workerConcurrency: 4,
      flagConcurrency: 25,
      flagAttempts: 3,
      retryBaseDelayMs: 100,
      originPool: {
        connections: 64,
        connectTimeoutMs: 5_000,
        headersTimeoutMs: 10_000,
        bodyTimeoutMs: 10_000,
        maxResponseBytes: 1024 * 1024,
      },
      shutdownTimeoutMs: 20_000,
      healthPort: 0,
      jobLock: { lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
      logLevel: 'info',
      observability: { metricsEnabled: true, otlpEndpoint: undefined, serviceName: 'flagship-worker' },
      flagDeadlineMs: 30_000,
      originAllowedHosts: '',
      originRateLimit: 0,
    });
  });

  it('reads real numbers, and treats an empty value as unset', () => {
    const config = loadConfig({
      WORKER_CONCURRENCY: '8',
      FLAG_ATTEMPTS: '',
      ORIGIN_URL: 'https://flupy.org/data/flags',
    });
    expect(config.workerConcurrency).toBe(8);
    expect(config.flagAttempts).toBe(3);
    expect(config.originUrl).toBe('https://flupy.org/data/flags');
  });

  it.each([
    ['WORKER_CONCURRENCY', '0'],
    ['WORKER_CONCURRENCY', '2.5'],
    ['FLAG_CONCURRENCY', '-1'],
    ['FLAG_CONCURRENCY', 'lots'],
    ['FLAG_ATTEMPTS', '1e9'],
    ['ORIGIN_CONNECTIONS', '64 sockets'],
    ['RETRY_BASE_DELAY_MS', '-5'],
    ['MAX_RESPONSE_BYTES', '10'],
    ['SHUTDOWN_TIMEOUT_MS', 'NaN'],
    ['WORKER_LOCK_DURATION_MS', '999'],
    ['WORKER_STALLED_INTERVAL_MS', 'often'],
    ['ORIGIN_HEADERS_TIMEOUT_MS', '0'],
    ['ORIGIN_URL', 'file:///etc/passwd'],
    ['ORIGIN_URL', 'http://host/with space'],
    ['REDIS_URL', 'localhost:6379'],
    ['LOG_LEVEL', 'loud'],
    ['REDIS_URL', 'redis+sentinel://s1:26379'],
    ['REDIS_URL', 'redis+cluster://n1:6379/2'],
    ['REDIS_SENTINELS', 's1:26379'],
    ['REDIS_CLUSTER_NODES', 'n1:99999'],
  ])('rejects %s=%j with an error naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('reads Sentinel and Cluster settings (packages/common redis-endpoint.test.ts has the details)', () => {
    expect(loadConfig({ REDIS_SENTINELS: 's1,s2:26380', REDIS_SENTINEL_NAME: 'mymaster' }).redis).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      masterName: 'mymaster',
      tls: false,
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'n1:7000', REDIS_PASSWORD: 'pw' }).redis).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'n1', port: 7000 }],
      tls: false,
      password: 'pw',
    });
  });

  it('maps every variable to its setting', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://cache:6380',
      DOWNLOADS_DIR: '/flags',
      FLAG_CONCURRENCY: '5',
      RETRY_BASE_DELAY_MS: '7',
      ORIGIN_CONNECTIONS: '9',
      ORIGIN_CONNECT_TIMEOUT_MS: '1001',
      ORIGIN_HEADERS_TIMEOUT_MS: '1002',
      ORIGIN_BODY_TIMEOUT_MS: '1003',
      MAX_RESPONSE_BYTES: '2048',
      SHUTDOWN_TIMEOUT_MS: '11',
      WORKER_HEALTH_PORT: '9100',
      WORKER_LOCK_DURATION_MS: '5000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      redis: { mode: 'standalone', url: 'rediss://cache:6380' },
      downloadsDir: '/flags',
      flagConcurrency: 5,
      retryBaseDelayMs: 7,
      originPool: {
        connections: 9,
        connectTimeoutMs: 1001,
        headersTimeoutMs: 1002,
        bodyTimeoutMs: 1003,
        maxResponseBytes: 2048,
      },
      shutdownTimeoutMs: 11,
      healthPort: 9100,
      jobLock: { lockDurationMs: 5_000, stalledIntervalMs: 2_000 },
      logLevel: 'debug',
    });
  });

  it('returns a frozen object, its origin pool settings too', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.originPool)).toBe(true);
  });
});
