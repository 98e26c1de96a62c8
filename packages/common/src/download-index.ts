// The downloads' index in Redis, beside BullMQ's keys: what GET /v1/downloads lists, in
// pages whose cost grows with the page, not with the number of downloads (no SCAN, no
// KEYS). BullMQ holds each download's jobs and outcomes; the index holds one small record
// per download and the sorted sets that order them:
//
//   {prefix}:download:{id}                  hash: state, total, done, saved, notFound,
//                                           failed, createdAt, finishedAt, retryOf
//   {prefix}:download-index:all             zset: every download, score createdAt (ms)
//   {prefix}:download-index:state:{state}   zset per state, score createdAt
//   {prefix}:download-index:finished        zset of finished downloads, score finishedAt
//   {prefix}:download-index:expired         zset: tombstones of downloads pruned by the
//                                           retention, score when (capped: TOMBSTONES_KEPT)
//
// Every transition is one Lua script, so a download is in exactly one state set at any
// time: submitted (API: queued), advanced (worker: queued → running, counts so far),
// finished (worker: completed or failed; the API: cancelled), each finish also pruning
// what the retention no longer keeps. A finished state is final: a late worker write
// never turns a cancelled download into a completed one. All keys carry the prefix's
// hash tag (one Redis Cluster slot); the prune reaches records by names it builds, as
// BullMQ's own scripts do.
//
// Only `import type` from ioredis: the caller hands in its connection.
import type { RedisClient } from './redis-endpoint.ts';
import type { DownloadState } from './http-api.ts';
import { QUEUE_PREFIX } from './queues.ts';
import { redisScript } from './redis-script.ts';

export const DOWNLOAD_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
/** The states a download ends in. */
export type FinishedState = 'completed' | 'failed' | 'cancelled';

/** How long and how many finished downloads stay readable (BullMQ's removeOnComplete/removeOnFail, and the index). */
export interface Retention {
  ageSeconds: number;
  count: number;
}
export const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({ ageSeconds: 24 * 3600, count: 10_000 });

/** Tombstones kept (ids that answer 410 Gone); older ones are forgotten and answer 404. */
export const TOMBSTONES_KEPT = 100_000;
/** Most records one prune removes, so a lowered retention is caught up over a few finishes. */
const PRUNE_BATCH = 1_000;

export interface DownloadCounts {
  done: number;
  saved: number;
  notFound: number;
  failed: number;
}
export const NO_COUNTS: Readonly<DownloadCounts> = Object.freeze({ done: 0, saved: 0, notFound: 0, failed: 0 });

/** One download as the index knows it. Times in ms since the epoch. */
export interface DownloadRecord extends DownloadCounts {
  id: string;
  state: DownloadState;
  total: number;
  createdAt: number;
  finishedAt?: number;
  retryOf?: string;
}

/** A place in the newest-first walk: the last download of the previous page. */
export interface ListPosition {
  createdAt: number;
  id: string;
}

export interface DownloadPage {
  records: DownloadRecord[];
  /** Where the next page starts; absent on the last page. */
  next?: ListPosition;
}

export interface PageQuery {
  state?: DownloadState;
  limit: number;
  after?: ListPosition;
}

export interface SubmittedDownload {
  id: string;
  total: number;
  createdAt: number;
  retryOf?: string;
}

export interface FinishedDownload {
  state: FinishedState;
  /** Final counts; absent: keep the counts recorded so far (a download that failed as a whole). */
  counts?: DownloadCounts;
  finishedAt: number;
  retention: Retention;
  /** Creates the record when the submit's write never landed (the job says what it was). */
  known?: SubmittedDownload;
}

export function downloadIndexKeys(prefix: string = QUEUE_PREFIX) {
  const index = `${prefix}:download-index`;
  return {
    /** Prefix of the record keys: record(id) = recordPrefix + id. */
    recordPrefix: `${prefix}:download:`,
    record: (id: string) => `${prefix}:download:${id}`,
    all: `${index}:all`,
    state: (state: DownloadState) => `${index}:state:${state}`,
    finished: `${index}:finished`,
    expired: `${index}:expired`,
  };
}

/** A record's fields, in the order the scripts read them (HMGET). */
const RECORD_FIELDS = [
  'state',
  'total',
  'done',
  'saved',
  'notFound',
  'failed',
  'createdAt',
  'finishedAt',
  'retryOf',
] as const;

/** A record as hash fields (what submitted writes; the bench seeds records with it). */
export function downloadRecordFields(record: DownloadRecord): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of RECORD_FIELDS) {
    const value = record[field];
    if (value !== undefined) fields[field] = String(value);
  }
  return fields;
}

function isDownloadState(value: unknown): value is DownloadState {
  return (DOWNLOAD_STATES as readonly unknown[]).includes(value);
}

/** A record from its HMGET values (RECORD_FIELDS order), or undefined when there is none. */
export function parseDownloadRecord(id: string, values: readonly (string | null)[]): DownloadRecord | undefined {
  const [state, total, done, saved, notFound, failed, createdAt, finishedAt, retryOf] = values;
  if (!isDownloadState(state)) return undefined;
  const count = (value: string | null | undefined) => Math.max(0, Number(value ?? 0) || 0);
  return {
    id,
    state,
    total: count(total),
    done: count(done),
    saved: count(saved),
    notFound: count(notFound),
    failed: count(failed),
    createdAt: count(createdAt),
    ...(finishedAt ? { finishedAt: Number(finishedAt) } : {}),
    ...(retryOf ? { retryOf } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// The scripts. Shared KEYS layout of finish and prune: 1 all, 2 finished, 3 expired,
// 4..8 the state sets (queued, running, completed, failed, cancelled), then the script's own.

const STATE_KEYS_LUA = `
local stateKey = { queued = KEYS[4], running = KEYS[5], completed = KEYS[6], failed = KEYS[7], cancelled = KEYS[8] }`;

const NEW_RECORD_LUA = `
local function newRecord(record, all, id, createdAt, total, retryOf)
  redis.call('HSET', record, 'state', 'queued', 'total', total, 'done', 0, 'saved', 0, 'notFound', 0,
    'failed', 0, 'createdAt', createdAt)
  if retryOf ~= '' then redis.call('HSET', record, 'retryOf', retryOf) end
  redis.call('ZADD', all, createdAt, id)
end`;

// ARGV: recordPrefix, now, cutoff (finished before it expire), keep (count), tombstones, batch
const PRUNE_LUA = `
local function prune(recordPrefix, now, cutoff, keep, tombstones, batch)
  local victims, seen = {}, {}
  local function take(ids)
    for _, id in ipairs(ids) do
      if not seen[id] then seen[id] = true; victims[#victims + 1] = id end
    end
  end
  take(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. cutoff, 'LIMIT', 0, batch))
  local over = redis.call('ZCARD', KEYS[2]) - keep
  if over > 0 then take(redis.call('ZRANGE', KEYS[2], 0, math.min(over, batch) - 1)) end
  for _, id in ipairs(victims) do
    local record = recordPrefix .. id
    local state = redis.call('HGET', record, 'state')
    if state and stateKey[state] then redis.call('ZREM', stateKey[state], id) end
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('DEL', record)
    redis.call('ZADD', KEYS[3], now, id)
  end
  local excess = redis.call('ZCARD', KEYS[3]) - tombstones
  if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, excess - 1) end
  return #victims
end`;

/** KEYS: record, all, state:queued, expired. ARGV: id, createdAt, total, retryOf. */
const SUBMIT = redisScript(
  'flagshipIndexSubmit',
  4,
  `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
${NEW_RECORD_LUA}
newRecord(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1`,
);

/** KEYS: record, state:queued, state:running. ARGV: id, then deltas of done, saved, notFound, failed. */
const ADVANCE = redisScript(
  'flagshipIndexAdvance',
  3,
  `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'queued' and state ~= 'running' then return 0 end
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'running')
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[1], 'createdAt'), ARGV[1])
end
for i, field in ipairs({ 'done', 'saved', 'notFound', 'failed' }) do
  local delta = tonumber(ARGV[i + 1])
  if delta ~= 0 and redis.call('HINCRBY', KEYS[1], field, delta) < 0 then redis.call('HSET', KEYS[1], field, 0) end
end
return 1`,
);

/**
 * KEYS: the shared eight, then 9 the record. ARGV: 1..6 as prune, 7 id, 8 state,
 * 9 finishedAt, 10 has counts (1/0), 11..14 counts, 15 createdAt ('' unknown), 16 total, 17 retryOf.
 */
const FINISH = redisScript(
  'flagshipIndexFinish',
  9,
  `${STATE_KEYS_LUA}${NEW_RECORD_LUA}${PRUNE_LUA}
local id, record = ARGV[7], KEYS[9]
local state = redis.call('HGET', record, 'state')
if not state and ARGV[15] ~= '' and not redis.call('ZSCORE', KEYS[3], id) then
  newRecord(record, KEYS[1], id, ARGV[15], ARGV[16], ARGV[17])
  state = 'queued'
end
local changed = 0
if state == 'queued' or state == 'running' then
  redis.call('ZREM', stateKey[state], id)
  redis.call('HSET', record, 'state', ARGV[8], 'finishedAt', ARGV[9])
  if ARGV[10] == '1' then
    redis.call('HSET', record, 'done', ARGV[11], 'saved', ARGV[12], 'notFound', ARGV[13], 'failed', ARGV[14])
  end
  redis.call('ZADD', stateKey[ARGV[8]], redis.call('HGET', record, 'createdAt'), id)
  redis.call('ZADD', KEYS[2], ARGV[9], id)
  changed = 1
end
prune(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
return changed`,
);

/** KEYS: the shared eight. ARGV: as prune. Returns the number of records pruned. */
const PRUNE = redisScript(
  'flagshipIndexPrune',
  8,
  `${STATE_KEYS_LUA}${PRUNE_LUA}
return prune(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))`,
);

/**
 * KEYS: the set walked (all, or one state's). ARGV: recordPrefix, how many, after's
 * createdAt ('' for the first page), after's id. Newest first; ties (same ms) in
 * descending member order, as ZREVRANGE gives them. Continues after the position's own
 * member when it is still in the set (its rank), else after (createdAt, id) itself.
 * Returns id, score, HMGET of the record, for each.
 */
const PAGE = redisScript(
  'flagshipIndexPage',
  1,
  `
local key, want, afterScore, afterId = KEYS[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local entries
if afterScore == '' then
  entries = redis.call('ZREVRANGE', key, 0, want - 1, 'WITHSCORES')
else
  local rank = redis.call('ZREVRANK', key, afterId)
  if rank and tonumber(redis.call('ZSCORE', key, afterId)) == tonumber(afterScore) then
    entries = redis.call('ZREVRANGE', key, rank + 1, rank + want, 'WITHSCORES')
  else
    entries = {}
    local ties = redis.call('ZRANGEBYSCORE', key, afterScore, afterScore)
    for i = #ties, 1, -1 do
      if #entries >= 2 * want then break end
      if ties[i] < afterId then
        entries[#entries + 1] = ties[i]
        entries[#entries + 1] = afterScore
      end
    end
    local missing = want - #entries / 2
    if missing > 0 then
      local older = redis.call('ZREVRANGEBYSCORE', key, '(' .. afterScore, '-inf', 'WITHSCORES', 'LIMIT', 0, missing)
      for _, value in ipairs(older) do entries[#entries + 1] = value end
    end
  end
end
local out = {}
for i = 1, #entries, 2 do
  out[#out + 1] = entries[i]
  out[#out + 1] = entries[i + 1]
  out[#out + 1] = redis.call('HMGET', ARGV[1] .. entries[i], ${RECORD_FIELDS.map((f) => `'${f}'`).join(', ')})
end
return out`,
);

/** KEYS: the shared eight, then 9 the record. ARGV: id. Removes the record from every set. */
const FORGET = redisScript(
  'flagshipIndexForget',
  9,
  `${STATE_KEYS_LUA}
local state = redis.call('HGET', KEYS[9], 'state')
if not state then return 0 end
if stateKey[state] then redis.call('ZREM', stateKey[state], ARGV[1]) end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[9])
return 1`,
);

/** What every index operation of one prefix needs. */
export interface DownloadIndex {
  /** A new download, queued. False when its record already exists (the worker was first) or it expired. */
  submitted(download: SubmittedDownload): Promise<boolean>;
  /** Work on it started (queued → running) and these flags were decided since the last call. */
  advanced(id: string, delta?: DownloadCounts): Promise<boolean>;
  /** It ended: completed, failed or cancelled; prunes what the retention no longer keeps. False when it had already ended. */
  finished(id: string, finish: FinishedDownload): Promise<boolean>;
  /** Removes a download whose jobs could not be added (the submit failed). */
  forget(id: string): Promise<void>;
  /** Its record; 'expired' when the retention pruned it (a tombstone); undefined when unknown. */
  read(id: string): Promise<DownloadRecord | 'expired' | undefined>;
  /** One page, newest first, of every download or of one state. */
  page(query: PageQuery): Promise<DownloadPage>;
  /** Prunes by the retention now (finished does it on every finish). Returns how many went. */
  prune(retention: Retention, now: number): Promise<number>;
}

export function downloadIndex(redis: RedisClient, prefix: string = QUEUE_PREFIX): DownloadIndex {
  const keys = downloadIndexKeys(prefix);
  const shared = [keys.all, keys.finished, keys.expired, ...DOWNLOAD_STATES.map((state) => keys.state(state))];
  const pruneArgs = (retention: Retention, now: number) => [
    keys.recordPrefix,
    now,
    now - retention.ageSeconds * 1000,
    retention.count,
    TOMBSTONES_KEPT,
    PRUNE_BATCH,
  ];

  return {
    async submitted(download) {
      const { id, createdAt, total, retryOf } = download;
      const result = await SUBMIT.run(
        redis,
        [keys.record(id), keys.all, keys.state('queued'), keys.expired],
        [id, createdAt, total, retryOf ?? ''],
      );
      return result === 1;
    },
    async advanced(id, delta = NO_COUNTS) {
      const result = await ADVANCE.run(
        redis,
        [keys.record(id), keys.state('queued'), keys.state('running')],
        [id, delta.done, delta.saved, delta.notFound, delta.failed],
      );
      return result === 1;
    },
    async finished(id, finish) {
      const counts = finish.counts ?? NO_COUNTS;
      const known = finish.known;
      const result = await FINISH.run(
        redis,
        [...shared, keys.record(id)],
        [
          ...pruneArgs(finish.retention, finish.finishedAt),
          id,
          finish.state,
          finish.finishedAt,
          finish.counts === undefined ? 0 : 1,
          counts.done,
          counts.saved,
          counts.notFound,
          counts.failed,
          known?.createdAt ?? '',
          known?.total ?? 0,
          known?.retryOf ?? '',
        ],
      );
      return result === 1;
    },
    async forget(id) {
      await FORGET.run(redis, [...shared, keys.record(id)], [id]);
    },
    async read(id) {
      const results = await redis
        .pipeline()
        .hmget(keys.record(id), ...RECORD_FIELDS)
        .zscore(keys.expired, id)
        .exec();
      const [[recordError, values], [expiredError, expired]] = (results ?? []) as [
        [Error | null, (string | null)[]],
        [Error | null, string | null],
      ];
      if (recordError) throw recordError;
      if (expiredError) throw expiredError;
      return parseDownloadRecord(id, values) ?? (expired === null ? undefined : 'expired');
    },
    async page(query) {
      const set = query.state === undefined ? keys.all : keys.state(query.state);
      const after = query.after;
      const reply = (await PAGE.run(
        redis,
        [set],
        [keys.recordPrefix, query.limit + 1, after?.createdAt ?? '', after?.id ?? ''],
      )) as unknown[];
      const entries: { id: string; score: number; record: DownloadRecord | undefined }[] = [];
      for (let i = 0; i + 2 < reply.length; i += 3) {
        const id = String(reply[i]);
        entries.push({
          id,
          score: Number(reply[i + 1]),
          record: parseDownloadRecord(id, reply[i + 2] as (string | null)[]),
        });
      }
      const shown = entries.slice(0, query.limit);
      const last = shown.at(-1);
      return {
        records: shown.flatMap((entry) => (entry.record === undefined ? [] : [entry.record])),
        ...(entries.length > query.limit && last !== undefined ? { next: { createdAt: last.score, id: last.id } } : {}),
      };
    },
    async prune(retention, now) {
      return Number(await PRUNE.run(redis, shared, pruneArgs(retention, now)));
    },
  };
}
