// The API against a real Redis (one container for the file, a fresh queue prefix per
// test): a submitted download is really one BullMQ job when it fits a chunk, or a flow
// with the right children; its status reads back, and its event stream carries the
// progress that a small hand-made worker publishes, for both shapes (the real worker
// service is tested on its own). The queues' event streams are read only while someone
// follows. A download completing while its status is read is never reported completed
// without its summary; a download whose job fails says why. Every answer and event is
// checked against the public API's schemas. Last, /readyz turns 503 once Redis is gone.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, createBullmqDownloadQueues } from '@flagship/api';
import {
  Contracts,
  HttpContracts,
  QueueNames,
  chunkJobId,
  createLocalFlagStore,
  jobKey,
  summarize,
  type ChunkJobData,
  type ChunkResult,
  type DownloadEvent,
  type DownloadJobData,
  type DownloadProgress,
  type DownloadStatus,
  type DownloadSummary,
  type FlagOutcome,
  type RedisClient,
} from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

let container: StartedRedisContainer;
let redisUrl: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  container = await new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start();
  redisUrl = container.getConnectionUrl();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(async () => {
  await container?.stop().catch(() => undefined);
});

interface RunningApi {
  app: FastifyInstance;
  baseUrl: string;
  prefix: string;
  producer: RedisClient;
}

async function startApi(chunkSize = 2, eventsLingerMs?: number): Promise<RunningApi> {
  const prefix = `{test-${randomUUID()}}`;
  const producer = createRedisClient({ mode: 'standalone', url: redisUrl }, 'producer');
  const events = createRedisClient({ mode: 'standalone', url: redisUrl }, 'events');
  producer.on('error', () => {});
  events.on('error', () => {});
  await Promise.all([once(producer, 'ready'), once(events, 'ready')]);
  const dir = await mkdtemp(path.join(tmpdir(), 'flagship-api-docker-'));
  const queues = createBullmqDownloadQueues({ connection: producer, eventsConnection: events, prefix });
  const app = await buildApp({
    config: { chunkSize, bodyLimitBytes: 65_536, sseHeartbeatMs: 60_000 },
    queues,
    store: createLocalFlagStore(dir),
    ...(eventsLingerMs === undefined ? {} : { eventsLingerMs }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  // Close order as in main.ts: the app (streams, queues), then Redis.
  cleanups.push(async () => {
    await app.close();
    producer.disconnect();
    events.disconnect();
    await rm(dir, { recursive: true, force: true });
  });
  const { port } = app.server.address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}`, prefix, producer };
}

async function submit(api: RunningApi, codes: string[]): Promise<string> {
  const response = await fetch(`${api.baseUrl}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ codes }),
  });
  expect(response.status).toBe(202);
  return HttpContracts.downloadAccepted.parse(await response.json()).id;
}

async function readStatus(api: RunningApi, id: string): Promise<DownloadStatus> {
  const response = await fetch(`${api.baseUrl}/v1/downloads/${id}`);
  expect(response.status).toBe(200);
  return HttpContracts.downloadStatus.parse(await response.json());
}

function queue<D, R>(api: RunningApi, name: string): Queue<D, R> {
  const q = new Queue<D, R>(name, { connection: { url: redisUrl }, prefix: api.prefix });
  cleanups.push(() => q.close());
  return q;
}

/** Reads `event:`/`data:` frames of a text/event-stream as they arrive, each checked against DownloadEvent. */
async function* readEvents(url: string, signal: AbortSignal): AsyncGenerator<DownloadEvent> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.startsWith(':')) continue;
      const fields = Object.fromEntries(
        frame.split('\n').map((line) => [line.split(': ')[0], line.slice(line.indexOf(': ') + 2)]),
      );
      yield HttpContracts.downloadEvent.parse({
        event: fields.event ?? 'message',
        data: JSON.parse(fields.data ?? 'null'),
      });
    }
  }
}

function outcome(code: string): FlagOutcome {
  return {
    code,
    status: code === 'XK' ? 'NOT_FOUND' : 'OK',
    ...(code === 'XK' ? { reason: '404' } : { file: `${code}_x.gif`, country: 'x', bytes: 1 }),
    attempts: 1,
  };
}

describe('API on a real Redis', () => {
  it('adds a download as a flow: the parent in downloads, one child per chunk in flags', async () => {
    const api = await startApi(2);
    const id = await submit(api, ['br', 'CN', 'in', 'br']);
    const downloads = queue<DownloadJobData, DownloadSummary>(api, QueueNames.downloads);
    const flags = queue<ChunkJobData, ChunkResult>(api, QueueNames.flags);
    const parent = await downloads.getJob(id);
    expect(parent?.data).toEqual({ codes: ['BR', 'CN', 'IN'] });
    expect(await parent?.getState()).toBe('waiting-children');
    const dependencies = await parent!.getDependencies();
    expect(dependencies.unprocessed?.sort()).toEqual(
      [0, 1].map((n) => jobKey(api.prefix, QueueNames.flags, chunkJobId(id, n))).sort(),
    );
    expect((await flags.getJob(chunkJobId(id, 0)))?.data).toEqual({ downloadId: id, chunk: 0, codes: ['BR', 'CN'] });
    expect((await flags.getJob(chunkJobId(id, 1)))?.data).toEqual({ downloadId: id, chunk: 1, codes: ['IN'] });
    expect(await flags.getJobCounts('waiting')).toEqual({ waiting: 2 });
  });

  it('adds a download that fits one chunk as ONE job in downloads, and nothing in flags', async () => {
    const api = await startApi(2);
    const id = await submit(api, ['br', 'CN']);
    const downloads = queue<DownloadJobData, DownloadSummary>(api, QueueNames.downloads);
    const flags = queue<ChunkJobData, ChunkResult>(api, QueueNames.flags);
    const job = await downloads.getJob(id);
    expect(job?.data).toEqual({ codes: ['BR', 'CN'], inline: true });
    expect(await job?.getState()).toBe('waiting');
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential' } });
    expect(job?.opts.removeOnComplete).toBeDefined();
    expect(job?.parentKey).toBeUndefined();
    expect(await flags.count()).toBe(0);
  });

  it('adds downloads submitted at once each as its own job', async () => {
    const api = await startApi(25);
    const ids = await Promise.all(Array.from({ length: 12 }, (_, n) => submit(api, [n % 2 === 0 ? 'BR' : 'CN'])));
    expect(new Set(ids).size).toBe(12);
    const downloads = queue<DownloadJobData, DownloadSummary>(api, QueueNames.downloads);
    expect(await downloads.getJobCounts('waiting')).toEqual({ waiting: 12 });
    const jobs = await Promise.all(ids.map((id) => downloads.getJob(id)));
    expect(jobs.map((job) => job?.data)).toEqual(
      ids.map((_, n) => ({ codes: [n % 2 === 0 ? 'BR' : 'CN'], inline: true })),
    );
  });

  it('reports a queued download of either shape, and 404 for an id it does not know', async () => {
    const api = await startApi();
    const single = await submit(api, ['FR']);
    const flow = await submit(api, ['FR', 'DE', 'IT']);
    for (const [id, total] of [
      [single, 1],
      [flow, 3],
    ] as const) {
      expect(await readStatus(api, id)).toMatchObject({ id, state: 'queued', total, done: 0, outcomes: [], files: [] });
    }
    const missing = await fetch(`${api.baseUrl}/v1/downloads/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('streams the progress a worker publishes, then the summary; status follows along', async () => {
    const api = await startApi(2);
    const id = await submit(api, ['BR', 'CN', 'XK']);
    const abort = new AbortController();
    cleanups.push(async () => abort.abort());
    const stream = readEvents(`${api.baseUrl}/v1/downloads/${id}/events`, abort.signal);

    const first = await stream.next();
    expect(first.value).toMatchObject({ event: 'status', data: { id, state: 'queued', total: 3, done: 0 } });

    // A tiny stand-in for the worker service: chunk jobs report one outcome at a time;
    // the first chunk then waits for the test, so the status can be read mid-way.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const connection = { url: redisUrl };
    const chunkWorker = new Worker<ChunkJobData, ChunkResult>(
      QueueNames.flags,
      async (job: Job<ChunkJobData, ChunkResult>) => {
        const outcomes: FlagOutcome[] = [];
        for (const code of job.data.codes) {
          outcomes.push(outcome(code));
          await job.updateProgress({
            downloadId: id,
            chunk: job.data.chunk,
            total: job.data.codes.length,
            outcomes: [...outcomes],
          });
          if (job.data.chunk === 0 && outcomes.length === 1) await released;
        }
        return { downloadId: id, chunk: job.data.chunk, outcomes };
      },
      { connection, prefix: api.prefix, concurrency: 2 },
    );
    const parentWorker = new Worker<DownloadJobData, DownloadSummary>(
      QueueNames.downloads,
      async (job) => {
        const results = Object.values(await job.getChildrenValues()).map((value) => Contracts.chunkResult.parse(value));
        return summarize(
          job.data.codes,
          results.flatMap((r) => r.outcomes),
          (Date.now() - job.timestamp) / 1000,
        );
      },
      { connection, prefix: api.prefix },
    );
    cleanups.push(
      () => chunkWorker.close(),
      () => parentWorker.close(),
    );

    const progress: DownloadProgress[] = [];
    let completed: unknown;
    for await (const { event, data } of stream) {
      if (event === 'progress') {
        progress.push(data);
        if (progress.length === 1) {
          const status = await readStatus(api, id);
          expect(status).toMatchObject({ state: 'running', total: 3 });
          expect(status.done).toBeGreaterThanOrEqual(1);
          release();
        }
      } else {
        expect(event).toBe('completed');
        completed = data;
      }
    }
    expect(progress.at(-1)?.done).toBe(3);
    expect(progress.flatMap((p) => p.outcomes.map((o) => o.code)).sort()).toEqual(['BR', 'CN', 'XK']);
    expect(completed).toMatchObject({
      id,
      state: 'completed',
      total: 3,
      saved: 2,
      notFound: 1,
      failed: 0,
      files: ['BR_x.gif', 'CN_x.gif'],
      message: expect.stringMatching(/^2 flags downloaded in \d+\.\d\ds \(1 not found\)$/),
    });
    const final = await readStatus(api, id);
    expect(final).toMatchObject({ state: 'completed', saved: 2, notFound: 1, done: 3, finishedAt: expect.any(String) });

    // Following a finished download: status and completed at once.
    const again: string[] = [];
    for await (const { event } of readEvents(`${api.baseUrl}/v1/downloads/${id}/events`, abort.signal))
      again.push(event);
    expect(again).toEqual(['status', 'completed']);
  });

  it("streams a single-job download's own progress, then the summary; status follows along", async () => {
    const api = await startApi(25);
    const id = await submit(api, ['BR', 'CN', 'XK']);
    const abort = new AbortController();
    cleanups.push(async () => abort.abort());
    const stream = readEvents(`${api.baseUrl}/v1/downloads/${id}/events`, abort.signal);
    expect((await stream.next()).value).toMatchObject({ event: 'status', data: { id, state: 'queued', total: 3 } });

    // A stand-in for the download worker: reports one outcome at a time on the job
    // itself (a ChunkProgress of chunk 0), waiting for the test after the first.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = new Worker<DownloadJobData, DownloadSummary>(
      QueueNames.downloads,
      async (job) => {
        const outcomes: FlagOutcome[] = [];
        for (const code of job.data.codes) {
          outcomes.push(outcome(code));
          await job.updateProgress({ downloadId: id, chunk: 0, total: job.data.codes.length, outcomes: [...outcomes] });
          if (outcomes.length === 1) await released;
        }
        return summarize(job.data.codes, outcomes, (Date.now() - job.timestamp) / 1000);
      },
      { connection: { url: redisUrl }, prefix: api.prefix },
    );
    cleanups.push(() => worker.close());

    const progress: DownloadProgress[] = [];
    let completed: unknown;
    for await (const { event, data } of stream) {
      if (event === 'progress') {
        progress.push(data);
        if (progress.length === 1) {
          const status = await readStatus(api, id);
          expect(status).toMatchObject({ state: 'running', total: 3, done: 1, outcomes: [outcome('BR')] });
          release();
        }
      } else {
        expect(event).toBe('completed');
        completed = data;
      }
    }
    expect(progress.at(-1)?.done).toBe(3);
    expect(completed).toMatchObject({ id, state: 'completed', total: 3, saved: 2, notFound: 1, done: 3 });
    const final = await readStatus(api, id);
    expect(final).toMatchObject({ state: 'completed', saved: 2, done: 3, finishedAt: expect.any(String) });
  });

  it("says why a download failed, from its job's failedReason, in its status and its failed event", async () => {
    const api = await startApi(25);
    const id = await submit(api, ['BR', 'CN']);
    const abort = new AbortController();
    cleanups.push(async () => abort.abort());
    const stream = readEvents(`${api.baseUrl}/v1/downloads/${id}/events`, abort.signal);
    expect((await stream.next()).value).toMatchObject({ event: 'status', data: { id, state: 'queued' } });

    // A download worker whose job fails for good at once (no retry).
    const worker = new Worker<DownloadJobData, DownloadSummary>(
      QueueNames.downloads,
      async () => {
        throw new UnrecoverableError('ENOSPC: no space left on device');
      },
      { connection: { url: redisUrl }, prefix: api.prefix },
    );
    cleanups.push(() => worker.close());

    const rest: DownloadEvent[] = [];
    for await (const event of stream) rest.push(event);
    const why = { failedReason: 'ENOSPC: no space left on device' };
    expect(rest).toEqual([{ event: 'failed', data: expect.objectContaining({ id, state: 'failed', ...why }) }]);
    expect(await readStatus(api, id)).toMatchObject({
      state: 'failed',
      ...why,
      message: 'download failed: ENOSPC: no space left on device',
      finishedAt: expect.any(String),
    });
  });

  it('never reports a download completed without its summary when it completes while its status is read', async () => {
    // The bug: with 50 downloads followed at once, a first `status` event said
    // `completed` with 0 flags done. The API read the job, the job completed, then the
    // API read its state: `completed`, with the job's stale fields (no summary, no finish
    // time). Here the job completes at exactly that moment: right after the API has read
    // the job's hash.
    const api = await startApi(25);
    const id = await submit(api, ['BR', 'CN']);
    const worker = new Worker<DownloadJobData, DownloadSummary>(QueueNames.downloads, null, {
      connection: { url: redisUrl },
      prefix: api.prefix,
    });
    cleanups.push(() => worker.close());
    const token = randomUUID();
    const active = (await worker.getNextJob(token)) as Job<DownloadJobData, DownloadSummary>;
    expect(active.id).toBe(id);
    const result = summarize(['BR', 'CN'], [outcome('BR'), outcome('CN')], 0.01);

    const downloadKey = jobKey(api.prefix, QueueNames.downloads, id);
    const hgetall = api.producer.hgetall.bind(api.producer) as (key: string) => Promise<Record<string, string>>;
    let completedMeanwhile = false;
    Object.assign(api.producer, {
      async hgetall(key: string) {
        const fields = await hgetall(key);
        if (key === downloadKey && !completedMeanwhile) {
          completedMeanwhile = true;
          await active.moveToCompleted(result, token, false);
        }
        return fields;
      },
    });

    const status = await readStatus(api, id);
    expect(completedMeanwhile).toBe(true);
    if (status.state === 'completed') {
      expect(status).toMatchObject({ done: 2, saved: 2, finishedAt: expect.any(String), message: result.message });
    } else {
      expect(status.state).toBe('running'); // read just before it completed: fine, the next read says completed
    }
    const again = await readStatus(api, id);
    expect(again).toMatchObject({ state: 'completed', done: 2, saved: 2, finishedAt: expect.any(String) });
  });

  it("reads the queues' event streams only while someone follows a download", async () => {
    const api = await startApi(25, 0);
    const eventReaders = async () => {
      const clients = (await api.producer.client('LIST')) as string;
      return clients.split('\n').filter((line) => line.includes(`name=${api.prefix}:`) && / name=\S+:qe /.test(line));
    };
    const id = await submit(api, ['BR']);
    await fetch(`${api.baseUrl}/v1/downloads/${id}`);
    expect(await eventReaders()).toEqual([]); // submitted and read, nobody following: no XREAD

    const abort = new AbortController();
    cleanups.push(async () => abort.abort());
    const stream = readEvents(`${api.baseUrl}/v1/downloads/${id}/events`, abort.signal);
    expect((await stream.next()).value).toMatchObject({ event: 'status', data: { id } });
    await vi.waitFor(async () => {
      const readers = await eventReaders();
      expect(readers).toHaveLength(2); // one QueueEvents per queue, blocked in XREAD
      expect(readers.every((line) => / cmd=xread /.test(line))).toBe(true);
    });

    // The download completes, its stream ends: nobody follows any more (linger 0).
    const worker = new Worker<DownloadJobData, DownloadSummary>(
      QueueNames.downloads,
      async (job) => summarize(job.data.codes, [outcome('BR')], 0.01),
      { connection: { url: redisUrl }, prefix: api.prefix },
    );
    cleanups.push(() => worker.close());
    const events: string[] = [];
    for await (const { event } of stream) events.push(event);
    // BR was decided without a progress report (its job ended within one interval): it is
    // told as progress from the summary, then `completed`.
    expect(events).toEqual(['progress', 'completed']);
    await vi.waitFor(async () => expect(await eventReaders()).toEqual([]));
  });

  it('is ready while Redis answers, and 503 once it is gone', async () => {
    const api = await startApi();
    expect((await fetch(`${api.baseUrl}/readyz`)).status).toBe(200);
    const closed = once(api.producer, 'close');
    await container.stop();
    await closed;
    const started = performance.now();
    const response = await fetch(`${api.baseUrl}/readyz`);
    expect(response.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(HttpContracts.problem.parse(await response.json()).code).toBe('FLAGSHIP_QUEUE_UNAVAILABLE');
    const submitted = await fetch(`${api.baseUrl}/v1/downloads`, { method: 'POST' });
    expect(submitted.status).toBe(503);
  });
});
