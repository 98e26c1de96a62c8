import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has documented defaults, with no faults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: DEFAULT_DATA_DIR,
      logLevel: 'info',
      faults: { errorRate: 0 },
    });
    expect(DEFAULT_DATA_DIR).toMatch(/services[/\\]origin[/\\]data$/);
  });

  it('treats empty values as unset (compose `FOO=`)', () => {
    expect(loadConfig({ ORIGIN_PORT: '', ORIGIN_DELAY_MS: '', ORIGIN_FAIL_CODES: '' }).port).toBe(8080);
    expect(loadConfig({ ORIGIN_DELAY_MS: '' }).faults.delayMs).toBeUndefined();
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ORIGIN_PORT: '9000',
      ORIGIN_HOST: '127.0.0.1',
      ORIGIN_DATA_DIR: '/srv/flags',
      ORIGIN_DELAY_MS: '10-20',
      ORIGIN_ERROR_RATE: '0.25',
      ORIGIN_FAULT_SEED: '42',
      ORIGIN_FAIL_CODES: 'cn, us',
      LOG_LEVEL: 'debug',
    });
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      dataDir: '/srv/flags',
      logLevel: 'debug',
      faults: { delayMs: [10, 20], errorRate: 0.25, seed: 42, failCodes: ['CN', 'US'] },
    });
  });

  it('reads a single delay as a fixed delay', () => {
    expect(loadConfig({ ORIGIN_DELAY_MS: '50' }).faults.delayMs).toEqual([50, 50]);
    expect(loadConfig({ ORIGIN_DELAY_MS: ' 5 - 9 ' }).faults.delayMs).toEqual([5, 9]);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.faults)).toBe(true);
  });

  it.each([
    ['ORIGIN_PORT', 'abc'],
    ['ORIGIN_PORT', '70000'],
    ['ORIGIN_PORT', '-1'],
    ['ORIGIN_PORT', '80.5'],
    ['ORIGIN_ERROR_RATE', '1.5'],
    ['ORIGIN_ERROR_RATE', '-0.1'],
    ['ORIGIN_ERROR_RATE', 'half'],
    ['ORIGIN_DELAY_MS', '20-10'],
    ['ORIGIN_DELAY_MS', 'slow'],
    ['ORIGIN_DELAY_MS', '-5'],
    ['ORIGIN_DELAY_MS', '1-2-3'],
    ['ORIGIN_DELAY_MS', '999999'],
    ['ORIGIN_FAULT_SEED', '1.5'],
    ['ORIGIN_FAULT_SEED', 'seed'],
    ['ORIGIN_FAIL_CODES', 'ZZ'],
    ['ORIGIN_FAIL_CODES', '../etc'],
    ['LOG_LEVEL', 'verbose'],
  ])('rejects %s=%j with an error naming it', (name, value) => {
    const load = () => loadConfig({ [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
  });
});
