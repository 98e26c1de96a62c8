// API keys: parsed once from API_KEYS, kept only as SHA-256 digests, and compared in
// constant time. The format is a comma-separated list of `name:key:scopes` entries,
//   API_KEYS='ci:3f9c…e1:read+submit,ops:8d02…7a:admin'
// name: how logs and rate limits name the key (never the key itself); key: at least 16
// characters of A–Z a–z 0–9 . _ ~ - (e.g. `openssl rand -hex 32`); scopes: read, submit
// and admin joined by `+` (admin implies the other two).
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@flagship/runtime';

export const SCOPES = ['read', 'submit', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A configured key as the API keeps it: no plaintext, only its digest. */
export interface ApiKey {
  readonly name: string;
  readonly digest: Buffer;
  readonly scopes: ReadonlySet<Scope>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const KEY = /^[A-Za-z0-9._~-]{16,256}$/;
export const MIN_KEY_LENGTH = 16;

function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function isScope(text: string): text is Scope {
  return (SCOPES as readonly string[]).includes(text);
}

/**
 * The keys of an API_KEYS value; an empty or blank value is no keys (the API runs
 * open). A malformed entry throws a ConfigError that names the entry by its position
 * and name, never by its key.
 */
export function parseApiKeys(text: string | undefined, variable = 'API_KEYS'): readonly ApiKey[] {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const keys: ApiKey[] = [];
  const digests = new Set<string>();
  entries.forEach((entry, index) => {
    const where = `${variable} entry ${index + 1}`;
    const parts = entry.split(':');
    if (parts.length !== 3) throw new ConfigError(`invalid configuration: ${where} must be name:key:scopes`);
    const [name = '', key = '', scopeList = ''] = parts;
    if (!NAME.test(name))
      throw new ConfigError(`invalid configuration: ${where} has a name that is not 1-64 of A-Z a-z 0-9 _ -`);
    if (!KEY.test(key)) {
      throw new ConfigError(
        `invalid configuration: ${where} (${name}) has a key that is not ${MIN_KEY_LENGTH}-256 of A-Z a-z 0-9 . _ ~ -`,
      );
    }
    const scopeNames = scopeList.split('+').map((scope) => scope.trim());
    const unknown = scopeNames.filter((scope) => !isScope(scope));
    if (unknown.length > 0) {
      throw new ConfigError(
        `invalid configuration: ${where} (${name}) has unknown scopes ${JSON.stringify(unknown)}: use read, submit, admin joined by +`,
      );
    }
    if (keys.some((other) => other.name === name))
      throw new ConfigError(`invalid configuration: ${where}: the name ${name} is used twice`);
    const digest = digestOf(key);
    if (digests.has(digest.toString('hex')))
      throw new ConfigError(`invalid configuration: ${where} (${name}) repeats another entry's key`);
    digests.add(digest.toString('hex'));
    const scopes = new Set(scopeNames.filter(isScope));
    if (scopes.has('admin')) for (const scope of SCOPES) scopes.add(scope);
    keys.push(Object.freeze({ name, digest, scopes }));
  });
  return Object.freeze(keys);
}

/**
 * The configured key a presented key is, or undefined. Every configured digest is
 * compared (timingSafeEqual on equal-length SHA-256 digests), so the time taken says
 * nothing about which key, or how much of one, matched.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = digestOf(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest)) found ??= key;
  }
  return found;
}
