import { ConfigError } from '@flagship/runtime';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findApiKey, parseApiKeys } from './api-keys.ts';

const READER = 'r'.repeat(16);
const SUBMITTER = 'Sub.mitter_key~0123';
const ADMIN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('parseApiKeys', () => {
  it('reads name:key:scopes entries, keeps only SHA-256 digests, and lets admin imply the rest', () => {
    const keys = parseApiKeys(` reader:${READER}:read , ci:${SUBMITTER}:read+submit,ops:${ADMIN}:admin `);
    expect(keys.map((key) => [key.name, [...key.scopes].sort()])).toEqual([
      ['reader', ['read']],
      ['ci', ['read', 'submit']],
      ['ops', ['admin', 'read', 'submit']],
    ]);
    expect(keys[2]?.digest).toEqual(createHash('sha256').update(ADMIN).digest());
    expect(JSON.stringify(keys)).not.toContain(ADMIN);
    expect(Object.values(keys[0] ?? {})).not.toContain(READER);
  });

  it.each([undefined, '', ' ', ',,'])('reads %j as no keys (the API runs open)', (text) => {
    expect(parseApiKeys(text)).toEqual([]);
  });

  it.each([
    ['a missing part', `ops:${ADMIN}`, 'API_KEYS entry 1 must be name:key:scopes'],
    ['a short key', 'ops:short:admin', 'API_KEYS entry 1 (ops) has a key that is not 16-256'],
    ['a key with a separator', `ops:${ADMIN}:x:admin`, 'API_KEYS entry 1 must be name:key:scopes'],
    ['a bad name', `o p:${ADMIN}:admin`, 'API_KEYS entry 1 has a name'],
    ['an unknown scope', `ops:${ADMIN}:root`, 'API_KEYS entry 1 (ops) has unknown scopes ["root"]'],
    ['no scope', `ops:${ADMIN}:`, 'API_KEYS entry 1 (ops) has unknown scopes [""]'],
    ['a name used twice', `a:${ADMIN}:admin,a:${READER}:read`, 'API_KEYS entry 2: the name a is used twice'],
    ['a key used twice', `a:${ADMIN}:admin,b:${ADMIN}:read`, 'API_KEYS entry 2 (b) repeats'],
  ])('refuses %s, naming the variable and never the key', (_, text, message) => {
    expect(() => parseApiKeys(text)).toThrow(ConfigError);
    expect(() => parseApiKeys(text)).toThrow(message);
    try {
      parseApiKeys(text);
    } catch (error) {
      expect((error as Error).message).not.toContain(ADMIN);
    }
  });
});

describe('findApiKey', () => {
  const keys = parseApiKeys(`reader:${READER}:read,ops:${ADMIN}:admin`);

  it('finds the configured key a presented key is', () => {
    expect(findApiKey(keys, ADMIN)?.name).toBe('ops');
    expect(findApiKey(keys, READER)?.name).toBe('reader');
  });

  it.each(['', ADMIN.slice(0, -1), `${ADMIN}0`, ADMIN.toUpperCase(), 'x'.repeat(10_000)])(
    'finds nothing for %j',
    (presented) => {
      expect(findApiKey(keys, presented)).toBeUndefined();
    },
  );
});
