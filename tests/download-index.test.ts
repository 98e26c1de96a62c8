// The downloads' index (@flagship/common download-index.ts) on a real Redis: one
// container for the file, a fresh prefix per test. Its transitions keep a download in
// exactly one state set, a finished state is final, the retention prunes records into
// tombstones, and the newest-first walk continues exactly where the last page ended,
// through ties at the same millisecond and past a cursor whose download has gone.
import { randomUUID } from 'node:crypto';
import {
  DOWNLOAD_STATES,
  downloadIndex,
  downloadIndexKeys,
  type DownloadIndex,
  type DownloadState,
  type ListPosition,
} from '@flagship/common';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let container: StartedRedisContainer;
let redis: Redis;
let prefix: string;
let index: DownloadIndex;

const T0 = 1_700_000_000_000;
const KEEP = { ageSeconds: 3600, count: 1000 };

beforeAll(async () => {
  container = await new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start();
  redis = new Redis(container.getConnectionUrl());
});

afterAll(async () => {
  await redis?.quit();
  await container?.stop().catch(() => undefined);
});

beforeEach(() => {
  prefix = `{test-${randomUUID()}}`;
  index = downloadIndex(redis, prefix);
});

/** Which state sets hold the id, and whether the all set does. */
async function membership(id: string): Promise<{ all: boolean; states: DownloadState[] }> {
  const keys = downloadIndexKeys(prefix);
  const states: DownloadState[] = [];
  for (const state of DOWNLOAD_STATES) {
    if ((await redis.zscore(keys.state(state), id)) !== null) states.push(state);
  }
  return { all: (await redis.zscore(keys.all, id)) !== null, states };
}

async function walk(state?: DownloadState, limit = 3): Promise<string[]> {
  const seen: string[] = [];
  let after: ListPosition | undefined;
  do {
    const page = await index.page({ limit, ...(state ? { state } : {}), ...(after ? { after } : {}) });
    seen.push(...page.records.map((record) => record.id));
    after = page.next;
  } while (after !== undefined);
  return seen;
}

describe('transitions', () => {
  it('moves a download queued → running → completed, one state set at a time, with its counts', async () => {
    expect(await index.submitted({ id: 'a', total: 3, createdAt: T0, retryOf: 'z' })).toBe(true);
    expect(await index.submitted({ id: 'a', total: 9, createdAt: T0 + 5 })).toBe(false);
    expect(await membership('a')).toEqual({ all: true, states: ['queued'] });
    expect(await index.read('a')).toEqual({
      id: 'a',
      state: 'queued',
      total: 3,
      done: 0,
      saved: 0,
      notFound: 0,
      failed: 0,
      createdAt: T0,
      retryOf: 'z',
    });

    expect(await index.advanced('a')).toBe(true);
    expect(await index.advanced('a', { done: 2, saved: 1, notFound: 0, failed: 1 })).toBe(true);
    expect(await membership('a')).toEqual({ all: true, states: ['running'] });
    expect(await index.read('a')).toMatchObject({ state: 'running', done: 2, saved: 1, failed: 1 });

    const counts = { done: 3, saved: 2, notFound: 1, failed: 0 };
    expect(await index.finished('a', { state: 'completed', counts, finishedAt: T0 + 9, retention: KEEP })).toBe(true);
    expect(await membership('a')).toEqual({ all: true, states: ['completed'] });
    expect(await index.read('a')).toMatchObject({ state: 'completed', ...counts, finishedAt: T0 + 9 });
  });

  it('keeps a finished state final: a late worker neither advances nor completes a cancelled download', async () => {
    await index.submitted({ id: 'c', total: 2, createdAt: T0 });
    await index.advanced('c', { done: 1, saved: 1, notFound: 0, failed: 0 });
    expect(await index.finished('c', { state: 'cancelled', finishedAt: T0 + 1, retention: KEEP })).toBe(true);
    expect(await index.advanced('c', { done: 1, saved: 1, notFound: 0, failed: 0 })).toBe(false);
    const counts = { done: 2, saved: 2, notFound: 0, failed: 0 };
    expect(await index.finished('c', { state: 'completed', counts, finishedAt: T0 + 2, retention: KEEP })).toBe(false);
    expect(await index.finished('c', { state: 'cancelled', counts, finishedAt: T0 + 3, retention: KEEP })).toBe(false);
    expect(await index.read('c')).toMatchObject({ state: 'cancelled', done: 1, saved: 1, finishedAt: T0 + 1 });
    expect(await membership('c')).toEqual({ all: true, states: ['cancelled'] });
  });

  it('records a cancel with the counts it is given', async () => {
    await index.submitted({ id: 'q', total: 4, createdAt: T0 });
    const counts = { done: 1, saved: 0, notFound: 1, failed: 0 };
    expect(await index.finished('q', { state: 'cancelled', counts, finishedAt: T0 + 5, retention: KEEP })).toBe(true);
    expect(await index.read('q')).toMatchObject({ state: 'cancelled', ...counts, finishedAt: T0 + 5 });
  });

  it('ignores advances of an unknown download, and creates a finished one the submit never recorded', async () => {
    expect(await index.advanced('w')).toBe(false);
    expect(await index.read('w')).toBeUndefined();
    const counts = { done: 1, saved: 1, notFound: 0, failed: 0 };
    const known = { id: 'w', total: 1, createdAt: T0, retryOf: 'v' };
    expect(await index.finished('w', { state: 'completed', counts, finishedAt: T0 + 3, retention: KEEP, known })).toBe(
      true,
    );
    expect(await index.read('w')).toMatchObject({ state: 'completed', total: 1, createdAt: T0, retryOf: 'v' });
    expect(await membership('w')).toEqual({ all: true, states: ['completed'] });
    // Without what the job knows, an unknown download stays unknown.
    expect(await index.finished('u', { state: 'failed', finishedAt: T0, retention: KEEP })).toBe(false);
    expect(await index.read('u')).toBeUndefined();
  });

  it('keeps the counts so far when a download fails as a whole', async () => {
    await index.submitted({ id: 'f', total: 5, createdAt: T0 });
    await index.advanced('f', { done: 2, saved: 2, notFound: 0, failed: 0 });
    await index.finished('f', { state: 'failed', finishedAt: T0 + 1, retention: KEEP });
    expect(await index.read('f')).toMatchObject({ state: 'failed', done: 2, saved: 2, total: 5 });
  });

  it('forgets a download whose jobs could not be added', async () => {
    await index.submitted({ id: 'g', total: 1, createdAt: T0 });
    await index.forget('g');
    expect(await index.read('g')).toBeUndefined();
    expect(await membership('g')).toEqual({ all: false, states: [] });
    await index.forget('g'); // twice is fine
  });
});

describe('retention', () => {
  async function finishMany(count: number, finishedAt: (n: number) => number, retention = KEEP): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, n) => `r${String(n).padStart(3, '0')}`);
    for (const [n, id] of ids.entries()) {
      await index.submitted({ id, total: 1, createdAt: T0 + n });
      await index.finished(id, { state: n % 2 ? 'failed' : 'completed', finishedAt: finishedAt(n), retention });
    }
    return ids;
  }

  it('keeps at most `count` finished downloads: the oldest finished become tombstones', async () => {
    const ids = await finishMany(6, (n) => T0 + 1000 + n, { ageSeconds: 3600, count: 4 });
    await index.submitted({ id: 'running', total: 1, createdAt: T0 - 1 });
    await index.advanced('running');
    expect(await walk()).toEqual([...ids.slice(2).reverse(), 'running']);
    expect(await index.read(ids[0] as string)).toBe('expired');
    expect(await index.read(ids[1] as string)).toBe('expired');
    expect(await membership(ids[0] as string)).toEqual({ all: false, states: [] });
    expect(await index.read(ids[2] as string)).toMatchObject({ state: 'completed' });
    expect(await index.read('running')).toMatchObject({ state: 'running' });
    // An expired download is not brought back by a late write.
    expect(await index.submitted({ id: ids[0] as string, total: 1, createdAt: T0 })).toBe(false);
  });

  it('prunes downloads that finished longer ago than the age, on the next finish or prune', async () => {
    const ids = await finishMany(3, (n) => T0 + n * 10_000);
    // Each finish pruned by its own time: nothing was an hour old yet.
    expect(await walk()).toHaveLength(3);
    expect(await index.prune({ ageSeconds: 15, count: 1000 }, T0 + 30_000)).toBe(2);
    expect(await walk()).toEqual([ids[2]]);
    expect(await index.read(ids[1] as string)).toBe('expired');
    expect(await index.read('never-existed')).toBeUndefined();
  });
});

describe('page', () => {
  it('walks newest first; downloads of the same millisecond in one fixed order; each once', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 10; n++) {
      const id = `p${n}`;
      ids.push(id);
      await index.submitted({ id, total: 1, createdAt: T0 + Math.floor(n / 4) }); // ties of 4, 4 and 2
    }
    const seen = await walk(undefined, 3);
    expect([...seen].sort()).toEqual([...ids].sort());
    const times = await Promise.all(seen.map(async (id) => (await index.read(id)) as { createdAt: number }));
    const createdAt = times.map((record) => record.createdAt);
    expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
    for (const limit of [1, 2, 4, 10, 11]) expect(await walk(undefined, limit)).toEqual(seen);
  });

  it('continues after a cursor whose download left the set, among ties and older ones', async () => {
    for (let n = 0; n < 6; n++) await index.submitted({ id: `m${n}`, total: 1, createdAt: T0 + (n < 4 ? 0 : n) });
    const first = await index.page({ limit: 3 });
    expect(first.records.map((record) => record.id)).toEqual(['m5', 'm4', 'm3']);
    const second = await index.page({ limit: 2, after: first.next as ListPosition });
    expect(second.records.map((record) => record.id)).toEqual(['m2', 'm1']);
    await index.forget('m1'); // the cursor's own download goes
    const third = await index.page({ limit: 2, after: second.next as ListPosition });
    expect(third.records.map((record) => record.id)).toEqual(['m0']);
    expect(third.next).toBeUndefined();
    // A cursor between ties: continues with the smaller ids of that millisecond.
    const between = await index.page({ limit: 5, after: { createdAt: T0, id: 'm25' } });
    expect(between.records.map((record) => record.id)).toEqual(['m2', 'm0']);
  });

  it('walks one state, and says there is no next page on the last one', async () => {
    for (let n = 0; n < 5; n++) await index.submitted({ id: `s${n}`, total: 1, createdAt: T0 + n });
    await index.advanced('s1');
    await index.advanced('s3');
    await index.finished('s3', { state: 'completed', finishedAt: T0 + 10, retention: KEEP });
    expect(await walk('queued', 2)).toEqual(['s4', 's2', 's0']);
    expect(await walk('running', 2)).toEqual(['s1']);
    expect(await walk('completed', 2)).toEqual(['s3']);
    expect(await walk('cancelled', 2)).toEqual([]);
    const page = await index.page({ limit: 5 });
    expect(page.records).toHaveLength(5);
    expect(page.next).toBeUndefined();
  });
});
