// Conditional GET: what a worker remembers of each saved flag (the GIF's and the
// metadata's ETag / Last-Modified, the file it was saved as) so that a repeat download
// asks the origin "has it changed?" and, on a 304, transfers no body and writes nothing.
//
// Where: one Redis hash, `{prefix}:validators` (under the queues' `{flagship}` hash
// tag), field = country code, value = a small JSON record. Every worker process shares
// it, a chunk's records come back in one HMGET and its new ones go out in few HSETs
// (createBatcher), and nothing is written to the downloads disk, where creating files
// is the costliest step (a sidecar file per flag would double the file creations).
// Each record also holds the GIF's URL: validators from another ORIGIN_URL are not sent.
//
// The hash is an optimisation, never a source of truth: a record that does not parse
// is ignored, a Redis error is reported to `onError` and the flag is downloaded in
// full, and the download sends validators only while the saved file is still in the
// store with the remembered size. Size: one record per code (~250), a few hundred
// bytes each.
import { Type, type Static } from 'typebox';
import { contract, type RedisClient } from '@flagship/common';
import { createBatcher } from './batcher.ts';

const Text = (maxLength: number) => Type.String({ maxLength });

export const HttpValidators = Type.Object({
  etag: Type.Optional(Text(512)),
  lastModified: Type.Optional(Text(64)),
});
export type HttpValidators = Static<typeof HttpValidators>;

export const FlagValidators = Type.Object({
  /** The GIF URL the validators were given for (before redirects). */
  url: Text(2_048),
  /** The saved file name, and its size in bytes. */
  file: Text(255),
  bytes: Type.Integer({ minimum: 0 }),
  /** The country of the metadata those validators were given with. */
  country: Text(200),
  gif: HttpValidators,
  metadata: HttpValidators,
});
export type FlagValidators = Static<typeof FlagValidators>;

const checkRecord = contract('flag validators', FlagValidators);

export interface ValidatorStore {
  /** The record of a code, or undefined (none, unreadable, or Redis failed). Never rejects. */
  get(code: string): Promise<FlagValidators | undefined>;
  /** Remember a code's record. Never rejects (a failure is reported to the store's onError). */
  set(code: string, record: FlagValidators): Promise<void>;
}

export interface RedisValidatorStoreOptions {
  /** The queues' prefix (default `{flagship}`): the hash is `{prefix}:validators`. */
  keyPrefix: string;
  /** A Redis call failed; the flags concerned are downloaded without validators. */
  onError?: (error: unknown) => void;
}

export function validatorsKey(keyPrefix: string): string {
  return `${keyPrefix}:validators`;
}

export function createRedisValidatorStore(
  redis: Pick<RedisClient, 'hmget' | 'hset'>,
  options: RedisValidatorStoreOptions,
): ValidatorStore {
  const key = validatorsKey(options.keyPrefix);
  const read = createBatcher<string, string | null>((codes) => redis.hmget(key, ...codes));
  const write = createBatcher<[string, string], void>(async (entries) => {
    await redis.hset(key, Object.fromEntries(entries));
    return [];
  });
  const report = (error: unknown) => options.onError?.(error);
  return {
    async get(code) {
      try {
        const text = await read(code);
        return text === null ? undefined : parseRecord(text);
      } catch (error) {
        report(error);
        return undefined;
      }
    },
    async set(code, record) {
      await write([code, JSON.stringify(record)]).catch(report);
    },
  };
}

function parseRecord(text: string): FlagValidators | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return checkRecord.check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The headers of a conditional GET, or none without validators. */
export function conditionalHeaders(validators: HttpValidators | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (validators?.etag !== undefined) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified;
  return headers;
}

/** The validators a response carries (ETag, Last-Modified), bounded like the record's. */
export function responseValidators(headers: Record<string, string | string[] | undefined>): HttpValidators {
  const first = (value: string | string[] | undefined, max: number) => {
    const text = Array.isArray(value) ? value[0] : value;
    return text !== undefined && text.length <= max ? text : undefined;
  };
  const etag = first(headers.etag, 512);
  const lastModified = first(headers['last-modified'], 64);
  return { ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) };
}

export function hasValidators(validators: HttpValidators): boolean {
  return validators.etag !== undefined || validators.lastModified !== undefined;
}
