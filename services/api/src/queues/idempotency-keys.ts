// Idempotency-Key claims of POST /v1/downloads in Redis: `{prefix}:idempotency:{key}`
// holds the fingerprint of the first request's normalized body, the download it creates
// and whether that download is in the queue yet (pending → done), as JSON, for
// IDEMPOTENCY_TTL_S from the first request, whatever the retention of the download. The
// claim is one atomic script (read, or set when absent), so of any number of concurrent
// requests with one key exactly one creates a download.
import { contract, redisScript, type RedisClient } from '@flagship/common';
import { Type, type Static } from 'typebox';

const IdempotencyEntry = Type.Object({
  /** sha256 of the normalized request (what it asks to download). */
  fingerprint: Type.String(),
  downloadId: Type.String(),
  total: Type.Integer({ minimum: 0 }),
  /** pending: the first request is still adding the download; done: it is in the queue. */
  state: Type.Union([Type.Literal('pending'), Type.Literal('done')]),
});
export type IdempotencyEntry = Static<typeof IdempotencyEntry>;
const entryContract = contract('idempotency entry', IdempotencyEntry);

export interface IdempotencyKeys {
  /**
   * Claims the key with this (pending) entry for `ttlSeconds`: undefined when this
   * request has it; otherwise the entry of the request that claimed it first.
   */
  claim(key: string, entry: IdempotencyEntry, ttlSeconds: number): Promise<IdempotencyEntry | undefined>;
  read(key: string): Promise<IdempotencyEntry | undefined>;
  /** The claiming request added its download: the entry is done (the key keeps its expiry). */
  complete(key: string, entry: IdempotencyEntry): Promise<void>;
  /** The claiming request failed: frees the key, if it still holds that request's claim. */
  release(key: string, entry: IdempotencyEntry): Promise<void>;
}

/** KEYS: the key. ARGV: entry, ttl. Returns the entry there, or nil after setting ours. */
const CLAIM = redisScript(
  'flagshipIdempotencyClaim',
  1,
  `local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false`,
);

/** KEYS: the key. ARGV: the claim's entry. Deletes the key only while it holds that claim. */
const RELEASE = redisScript(
  'flagshipIdempotencyRelease',
  1,
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);

export interface RedisIdempotencyKeysOptions {
  connection: RedisClient;
  prefix: string;
  /** The adapter's deadline and 503 mapping (bullmq-download-queues.ts). */
  guarded<T>(what: string, operation: () => Promise<T>): Promise<T>;
}

/** An entry read from Redis: JSON checked against its schema; anything else counts as no entry. */
function parseEntry(raw: unknown): IdempotencyEntry | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return entryContract.check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** One fixed field order, so a release compares the very string the claim wrote. */
function serialize(entry: IdempotencyEntry): string {
  const { fingerprint, downloadId, total, state } = entry;
  return JSON.stringify({ fingerprint, downloadId, total, state });
}

export function createRedisIdempotencyKeys(options: RedisIdempotencyKeysOptions): IdempotencyKeys {
  const { connection, guarded } = options;
  const redisKey = (key: string) => `${options.prefix}:idempotency:${key}`;
  return {
    claim: (key, entry, ttlSeconds) =>
      guarded('claiming an idempotency key', async () =>
        parseEntry(await CLAIM.run(connection, [redisKey(key)], [serialize(entry), ttlSeconds])),
      ),
    read: (key) => guarded('reading an idempotency key', async () => parseEntry(await connection.get(redisKey(key)))),
    complete: (key, entry) =>
      guarded('completing an idempotency key', async () => {
        await connection.set(redisKey(key), serialize({ ...entry, state: 'done' }), 'KEEPTTL', 'XX');
      }),
    release: (key, entry) =>
      guarded('releasing an idempotency key', async () => {
        await RELEASE.run(connection, [redisKey(key)], [serialize(entry)]);
      }),
  };
}
