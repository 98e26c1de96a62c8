import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      REDIS_URL: 'redis://localhost:6379',
      ORIGIN_URL: 'http://localhost:8080/data/flags',
      DOWNLOADS_DIR: './downloads',
      WORKER_CONCURRENCY: 4,
      FLAG_CONCURRENCY: 25,
      ORIGIN_CONNECTIONS: 64,
      FLAG_ATTEMPTS: 3,
      RETRY_BASE_DELAY_MS: 100,
      MAX_RESPONSE_BYTES: 1024 * 1024,
      SHUTDOWN_TIMEOUT_MS: 20_000,
      LOG_LEVEL: 'info',
    });
  });

  it('reads real numbers, and treats an empty value as unset', () => {
    const config = loadConfig({
      WORKER_CONCURRENCY: '8',
      FLAG_ATTEMPTS: '',
      ORIGIN_URL: 'https://flupy.org/data/flags',
    });
    expect(config.WORKER_CONCURRENCY).toBe(8);
    expect(config.FLAG_ATTEMPTS).toBe(3);
    expect(config.ORIGIN_URL).toBe('https://flupy.org/data/flags');
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
    ['ORIGIN_HEADERS_TIMEOUT_MS', '0'],
    ['ORIGIN_URL', 'file:///etc/passwd'],
    ['ORIGIN_URL', 'http://host/with space'],
    ['REDIS_URL', 'localhost:6379'],
    ['LOG_LEVEL', 'loud'],
  ])('rejects %s=%j with an error naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });
});
