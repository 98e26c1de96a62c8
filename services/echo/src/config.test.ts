import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      server: {
        port: 8888,
        host: '127.0.0.1',
        exitCommand: 'exit',
        maxConnections: 10_000,
        idleTimeoutMs: 300_000,
        maxSessionBytes: 0,
      },
      metricsPort: 9464,
      shutdownTimeoutMs: 5_000,
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ECHO_PORT: '7',
      ECHO_HOST: '0.0.0.0',
      ECHO_EXIT_COMMAND: 'quit',
      ECHO_MAX_CONNECTIONS: '5',
      ECHO_IDLE_TIMEOUT_MS: '0',
      ECHO_MAX_SESSION_BYTES: '1048576',
      ECHO_METRICS_PORT: '0',
      ECHO_SHUTDOWN_TIMEOUT_MS: '250',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      server: { port: 7, host: '0.0.0.0', exitCommand: 'quit', maxConnections: 5, maxSessionBytes: 1_048_576 },
      metricsPort: 0,
      shutdownTimeoutMs: 250,
      logLevel: 'debug',
    });
    expect(config.server.idleTimeoutMs).toBe(0);
  });

  it('switches the exit command off when ECHO_EXIT_COMMAND is set but empty', () => {
    expect(loadConfig({ ECHO_EXIT_COMMAND: '' }).server.exitCommand).toBe('');
    expect(loadConfig({ ECHO_EXIT_COMMAND: undefined }).server.exitCommand).toBe('exit');
  });

  it('reads an empty variable as unset', () => {
    expect(loadConfig({ ECHO_PORT: '', ECHO_HOST: '', LOG_LEVEL: '', ECHO_MAX_CONNECTIONS: '' })).toEqual(
      loadConfig({}),
    );
  });

  it('names every bad variable in one error', () => {
    expect(() => loadConfig({ ECHO_PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/ECHO_PORT.*LOG_LEVEL/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it.each([
    ['ECHO_PORT', '65536'],
    ['ECHO_PORT', 'http'],
    ['ECHO_PORT', '-1'],
    ['ECHO_MAX_CONNECTIONS', '0'],
    ['ECHO_MAX_CONNECTIONS', '1.5'],
    ['ECHO_IDLE_TIMEOUT_MS', '-5'],
    ['ECHO_MAX_SESSION_BYTES', '1e3x'],
    ['ECHO_METRICS_PORT', '99999'],
    ['ECHO_SHUTDOWN_TIMEOUT_MS', 'soon'],
    ['ECHO_MAX_SESSION_BYTES', '1e3'],
    ['ECHO_PORT', '0x10'],
    ['ECHO_PORT', ' 7'],
    ['ECHO_PORT', '+7'],
    ['ECHO_IDLE_TIMEOUT_MS', '9007199254740993'],
    ['ECHO_EXIT_COMMAND', 'ex\nit'],
    ['ECHO_EXIT_COMMAND', 'exit\r'],
    ['ECHO_EXIT_COMMAND', 'x'.repeat(65)],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%j, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
