// In-memory Idempotency-Key claims for unit tests (no expiry), with a log of the calls.
import type { IdempotencyEntry, IdempotencyKeys } from '../queues/idempotency-keys.ts';

export interface FakeIdempotencyKeys extends IdempotencyKeys {
  readonly entries: Map<string, IdempotencyEntry>;
  readonly calls: string[];
}

export function createFakeIdempotencyKeys(): FakeIdempotencyKeys {
  const entries = new Map<string, IdempotencyEntry>();
  const calls: string[] = [];
  return {
    entries,
    calls,
    async claim(key, entry) {
      calls.push(`claim ${key}`);
      const first = entries.get(key);
      if (first !== undefined) return first;
      entries.set(key, entry);
      return undefined;
    },
    async read(key) {
      calls.push(`read ${key}`);
      return entries.get(key);
    },
    async complete(key, entry) {
      calls.push(`complete ${key}`);
      if (entries.has(key)) entries.set(key, { ...entry, state: 'done' });
    },
    async release(key, entry) {
      calls.push(`release ${key}`);
      if (entries.get(key)?.downloadId === entry.downloadId) entries.delete(key);
    },
  };
}
