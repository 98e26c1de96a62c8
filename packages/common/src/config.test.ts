import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { loadEnv, LogLevelSchema } from './config.ts';
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
