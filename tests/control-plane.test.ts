// The control plane end to end, in one process on a real Redis (one container for the
// file, a fresh pipeline and prefix per test: API, worker, origin): Idempotency-Key under
// 20 concurrent POSTs, a walk of the list across 1,000 downloads while new ones arrive,
// the state filter on what the worker recorded, retry of exactly the failed flags (the
// origin's failCodes), and 410 Gone once the retention has pruned a download.
import { randomUUID } from 'node:crypto';
import {
  HttpContracts,
  QueueNames,
  downloadIndex,
  type DownloadAccepted,
  type DownloadList,
  type DownloadListItem,
  type DownloadStatus,
} from '@flagship/common';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet, startPipeline, type Pipeline, type PipelineOptions } from './support/pipeline.ts';
import { readSse } from './support/sse.ts';

let container: StartedRedisContainer;
let redis: Redis;
let pipeline: Pipeline | undefined;

beforeAll(async () => {
  [container] = await Promise.all([
    new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start(),
    originDataSet(),
  ]);
  redis = new Redis(container.getConnectionUrl());
});

afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

afterAll(async () => {
  await redis?.quit();
  await container?.stop().catch(() => undefined);
});

async function start(options: Omit<PipelineOptions, 'redisUrl'> = {}): Promise<Pipeline> {
  pipeline = await startPipeline({ redisUrl: container.getConnectionUrl(), ...options });
  return pipeline;
}

function post(p: Pipeline, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${p.api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function submit(p: Pipeline, codes: string[]): Promise<DownloadAccepted> {
  const response = await post(p, { codes });
  expect(response.status).toBe(202);
  return HttpContracts.downloadAccepted.parse(await response.json());
}

/** Follows the download's events to its end, then reads its final status. */
async function finished(p: Pipeline, id: string): Promise<DownloadStatus> {
  const events = await readSse(`${p.api}/v1/downloads/${id}/events`, (e) => ['completed', 'failed'].includes(e.event));
  expect(events.at(-1)?.event).toBe('completed');
  return HttpContracts.downloadStatus.parse(await (await fetch(`${p.api}/v1/downloads/${id}`)).json());
}

async function listPage(p: Pipeline, query: string): Promise<DownloadList> {
  const response = await fetch(`${p.api}/v1/downloads?${query}`);
  expect(response.status).toBe(200);
  return HttpContracts.downloadList.parse(await response.json());
}

async function listAll(p: Pipeline, query = ''): Promise<DownloadListItem[]> {
  const items: DownloadListItem[] = [];
  let cursor: string | null = null;
  do {
    const page: DownloadList = await listPage(p, `limit=100${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

describe('Idempotency-Key', () => {
  it('makes one download of 20 concurrent POSTs with one key; another body with it is 422', async () => {
    const p = await start();
    const headers = { 'idempotency-key': `order-${randomUUID()}` };
    const body = { codes: ['fr', 'DE', 'it'] };
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(p, body, headers)));
    const answers = await Promise.all(
      responses.map(async (response) => ({ response, json: (await response.json()) as Record<string, unknown> })),
    );
    // Each is the download (created once, or replayed), or a 409 while the first was still adding it.
    for (const { response } of answers) expect([202, 409]).toContain(response.status);
    const accepted = answers.filter(({ response }) => response.status === 202);
    const created = accepted.filter(({ json }) => json.replayed !== true);
    expect(created).toHaveLength(1);
    const id = HttpContracts.downloadAccepted.parse(created[0]?.json).id;
    for (const { response, json } of accepted) {
      expect(HttpContracts.downloadAccepted.parse(json)).toMatchObject({ id, total: 3 });
      expect(response.headers.get('location')).toBe(`/v1/downloads/${id}`);
      expect(response.headers.get('idempotent-replayed')).toBe(json.replayed === true ? 'true' : null);
    }

    // One download: one job in BullMQ, one item in the list; it runs to its end once.
    const downloads = new Queue(QueueNames.downloads, { connection: redis, prefix: p.prefix });
    try {
      expect(await downloads.count()).toBeLessThanOrEqual(1);
      expect((await finished(p, id)).saved).toBe(3);
      const counts = await downloads.getJobCounts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await downloads.close();
    }
    expect((await listAll(p)).map((item) => item.id)).toEqual([id]);

    const replay = await post(p, { codes: ['FR', 'de', 'IT', 'fr'] }, headers);
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ id, replayed: true });
    const other = await post(p, { codes: ['FR'] }, headers);
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('GET /v1/downloads', () => {
  it('walks 1,000 downloads page by page, each once, while new ones arrive', async () => {
    const p = await start();
    // 990 put into the index directly (queued, older, 3 per millisecond), 10 real submits.
    const index = downloadIndex(redis, p.prefix);
    const base = Date.now() - 1_000_000;
    const seeded = Array.from({ length: 990 }, (_, n) => ({
      id: randomUUID(),
      total: 1,
      createdAt: base + Math.floor(n / 3),
    }));
    await Promise.all(seeded.map((download) => index.submitted(download)));
    const submitted = await Promise.all(Array.from({ length: 10 }, () => submit(p, ['CN'])));
    const existing = new Set([...seeded.map((d) => d.id), ...submitted.map((d) => d.id)]);
    expect(existing.size).toBe(1_000);

    const seen: string[] = [];
    const arrivedMeanwhile: string[] = [];
    let cursor: string | null = null;
    do {
      const page: DownloadList = await listPage(p, `limit=37${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      // New downloads between pages: they are newer than the whole walk.
      arrivedMeanwhile.push(...(await Promise.all([submit(p, ['IN']), submit(p, ['US'])])).map((d) => d.id));
    } while (cursor !== null);

    expect(seen).toHaveLength(1_000);
    expect(new Set(seen).size).toBe(1_000);
    expect(new Set(seen)).toEqual(existing);
    expect(arrivedMeanwhile.some((id) => seen.includes(id))).toBe(false);
    // The newest first: a fresh walk starts with one of the last two that arrived.
    expect(arrivedMeanwhile.slice(-2)).toContain((await listPage(p, 'limit=1')).items[0]?.id);
  });

  it('filters by state, with the counts and finish time the worker recorded', async () => {
    const p = await start({ missingCodes: ['DK'] });
    const done = await submit(p, ['DK', 'SE']);
    await finished(p, done.id);
    const index = downloadIndex(redis, p.prefix);
    const waiting = { id: randomUUID(), total: 2, createdAt: Date.now() - 600_000 }; // older than `done`
    await index.submitted(waiting);

    const completed = await listAll(p, '&state=completed');
    expect(completed).toEqual([
      expect.objectContaining({ id: done.id, state: 'completed', total: 2, done: 2, saved: 1, notFound: 1, failed: 0 }),
    ]);
    expect(Date.parse(completed[0]?.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(completed[0]?.createdAt ?? ''),
    );
    expect((await listAll(p, '&state=queued')).map((item) => item.id)).toEqual([waiting.id]);
    expect(await listAll(p, '&state=running')).toEqual([]);
    expect((await listAll(p)).map((item) => item.id)).toEqual([done.id, waiting.id]);
  });
});

describe('POST /v1/downloads/:id/retry', () => {
  it('downloads again exactly the flags that failed (NOT_FOUND too when asked), linked by retryOf', async () => {
    const p = await start({
      missingCodes: ['DK'],
      faults: { failCodes: ['BR', 'CN'] },
      workerEnv: { FLAG_ATTEMPTS: '1' },
    });
    const origin = await submit(p, ['BR', 'FR', 'CN', 'DK', 'DE']);
    const first = await finished(p, origin.id);
    expect(first).toMatchObject({ saved: 2, notFound: 1, failed: 2 });

    const response = await fetch(`${p.api}/v1/downloads/${origin.id}/retry`, { method: 'POST' });
    expect(response.status).toBe(202);
    const retry = HttpContracts.downloadAccepted.parse(await response.json());
    expect(retry).toMatchObject({ state: 'queued', total: 2, retryOf: origin.id });
    expect(response.headers.get('location')).toBe(`/v1/downloads/${retry.id}`);
    const again = await finished(p, retry.id);
    expect(again.retryOf).toBe(origin.id);
    expect(again.outcomes.map((outcome) => [outcome.code, outcome.status])).toEqual([
      ['BR', 'ERROR'],
      ['CN', 'ERROR'],
    ]);

    const withNotFound = await fetch(`${p.api}/v1/downloads/${retry.id}/retry?include=not_found`, { method: 'POST' });
    expect(withNotFound.status).toBe(202);
    const third = await finished(p, HttpContracts.downloadAccepted.parse(await withNotFound.json()).id);
    expect(third.outcomes.map((outcome) => outcome.code)).toEqual(['BR', 'CN']); // the retry had no NOT_FOUND
    const fromOrigin = await fetch(`${p.api}/v1/downloads/${origin.id}/retry?include=not_found`, { method: 'POST' });
    expect(await fromOrigin.json()).toMatchObject({ total: 3, retryOf: origin.id });

    const items = await listAll(p);
    expect(items.find((item) => item.id === retry.id)).toMatchObject({ retryOf: origin.id, state: 'completed' });
    expect(items.find((item) => item.id === origin.id)).not.toHaveProperty('retryOf');
  });

  it('answers 409 for a download with nothing to retry', async () => {
    const p = await start();
    const clean = await submit(p, ['SE']);
    await finished(p, clean.id);
    const response = await fetch(`${p.api}/v1/downloads/${clean.id}/retry`, { method: 'POST' });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('retention', () => {
  it('answers 410 Gone for a download the retention pruned, 404 for one that never was', async () => {
    const p = await start({ retention: { ageSeconds: 3600, count: 1 } });
    const older = await submit(p, ['SE']);
    await finished(p, older.id);
    const newer = await submit(p, ['NO']);
    await finished(p, newer.id); // its finish prunes the older one: only one finished download is kept

    const gone = await fetch(`${p.api}/v1/downloads/${older.id}`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ status: 410, code: 'FLAGSHIP_DOWNLOAD_GONE' });
    expect((await fetch(`${p.api}/v1/downloads/${older.id}/retry`, { method: 'POST' })).status).toBe(410);
    expect((await fetch(`${p.api}/v1/downloads/${newer.id}`)).status).toBe(200);
    expect((await listAll(p)).map((item) => item.id)).toEqual([newer.id]);
    expect((await fetch(`${p.api}/v1/downloads/${randomUUID()}`)).status).toBe(404);
  });
});
