// The worker's BullMQ wiring against a real Redis, for both shapes the API adds: a
// download flow (parent + chunk children) and a single-job download (one `downloads`
// job carrying its own codes) run through createFlagWorkers against a local HTTP
// origin, and the summary is checked. Also: a chunk (or a single job) that fails for
// good, and a shutdown that hands a running chunk (or single job) back to the queue
// for another worker to finish without downloading any saved flag twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildDownloadFlow,
  buildDownloadJobs,
  chunkJobId,
  createLocalFlagStore,
  Contracts,
  QueueNames,
  type DownloadSummary,
  type FlagStore,
  type RedisClient,
} from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { silentLogger } from '@flagship/runtime';
import {
  createFlagWorkers,
  createOriginDispatcher,
  loadConfig,
  type FlagWorkers,
  type FlagWorkersOptions,
} from '@flagship/worker';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { FlowProducer, Queue, QueueEvents } from 'bullmq';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Where the tests' QueueEvents start reading: each harness has a fresh prefix, so its
 * streams hold only its own events. From '$' (BullMQ's default), an event added between
 * the reader's ready and its first XREAD was missed: a job that failed then left
 * waitUntilFinished waiting for good (seen once, with ten test files running at once).
 */
const FROM_START = '0-0';

/** A whole 1×1 GIF89a: the worker saves only whole GIFs. */
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const COUNTRIES: Record<string, string> = {
  cn: 'China',
  in: 'India',
  us: 'United States',
  jp: 'Japan',
  br: 'Brazil',
  de: 'Germany',
  fr: 'France',
};

let redis: StartedRedisContainer;
let redisUrl: string;
let origin: Server;
let originUrl: string;
/** GIF requests per code, across the whole file. */
const gifHits = new Map<string, number>();
/** Codes whose GIF the origin holds (never answers) until released. */
const held = new Map<string, () => void>();
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  redis = await new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start();
  redisUrl = redis.getConnectionUrl();
  origin = createServer((req, res) => {
    const match = /^\/data\/flags\/([a-z]{2})\/(\1\.gif|metadata\.json)$/.exec(req.url ?? '');
    const cc = match?.[1] ?? '';
    const country = COUNTRIES[cc];
    if (match === null || country === undefined) return void res.writeHead(404).end();
    if (match[2] === 'metadata.json') return void res.end(JSON.stringify({ country }));
    gifHits.set(cc, (gifHits.get(cc) ?? 0) + 1);
    const hold = held.get(cc);
    if (hold !== undefined) return hold(); // never answered: the client has to give up
    res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/data/flags`;
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
  await redis?.stop();
});

/** A connection closed after everything registered later (cleanups run in reverse). */
function redisFor(role: 'worker' | 'events'): RedisClient {
  const connection = createRedisClient({ mode: 'standalone', url: redisUrl }, role);
  cleanups.push(() => connection.quit());
  return connection;
}

interface Harness {
  prefix: string;
  folder: string;
  store: FlagStore;
  /** Adds a download flow and resolves with its summary. */
  download(codes: string[], options?: { chunkSize?: number; chunkAttempts?: number }): Promise<DownloadSummary>;
  /** Adds a download flow without waiting. */
  add(codes: string[], options?: { chunkSize?: number }): Promise<{ id: string; finished: Promise<unknown> }>;
  /** Adds a single-job download (the codes must fit one chunk) without waiting. */
  addSingle(codes: string[], options?: { chunkAttempts?: number }): Promise<{ id: string; finished: Promise<unknown> }>;
  /** The download's job in the `downloads` queue. */
  downloads: Queue;
  startWorkers(overrides?: {
    store?: FlagStore;
    env?: Record<string, string>;
    settings?: FlagWorkersOptions['workerSettings'];
  }): Promise<FlagWorkers>;
}

async function harness(): Promise<Harness> {
  const prefix = `test-${randomUUID()}`;
  const folder = await mkdtemp(path.join(tmpdir(), 'flagship-worker-'));
  const store = createLocalFlagStore(folder);
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const flows = new FlowProducer({ connection: redisFor('worker'), prefix });
  const downloads = new Queue(QueueNames.downloads, { connection: redisFor('worker'), prefix });
  const events = new QueueEvents(QueueNames.downloads, {
    connection: redisFor('events'),
    prefix,
    lastEventId: FROM_START,
  });
  cleanups.push(
    () => flows.close(),
    () => downloads.close(),
    () => events.close(),
  );
  await events.waitUntilReady();

  async function add(codes: string[], options: { chunkSize?: number; chunkAttempts?: number } = {}) {
    const id = randomUUID();
    const node = await flows.add(buildDownloadFlow(id, codes, { prefix, chunkBackoffMs: 10, ...options }));
    return { id, finished: node.job.waitUntilFinished(events) };
  }

  async function addSingle(codes: string[], options: { chunkAttempts?: number } = {}) {
    const id = randomUUID();
    const jobs = buildDownloadJobs(id, codes, { prefix, chunkBackoffMs: 10, ...options });
    if (jobs.shape !== 'single') throw new Error(`${codes.length} codes do not fit one chunk`);
    const job = await downloads.add(jobs.name, jobs.data, jobs.opts);
    return { id, finished: job.waitUntilFinished(events) };
  }

  return {
    prefix,
    folder,
    store,
    add,
    addSingle,
    downloads,
    async download(codes, options) {
      const { finished } = await add(codes, options);
      return Contracts.downloadSummary.parse(await finished);
    },
    async startWorkers(overrides = {}) {
      const config = loadConfig({
        ORIGIN_URL: originUrl,
        RETRY_BASE_DELAY_MS: '1',
        ORIGIN_HEADERS_TIMEOUT_MS: '60000',
        ...overrides.env,
      });
      const redisConnection: RedisClient = redisFor('worker');
      const dispatcher: Agent = createOriginDispatcher(config.originPool);
      const workers = createFlagWorkers({
        config,
        connection: redisConnection,
        dispatcher,
        store: overrides.store ?? store,
        logger: silentLogger(),
        prefix,
        progressIntervalMs: 0,
        workerSettings: overrides.settings,
      });
      cleanups.push(
        () => dispatcher.destroy(),
        () => workers.close(),
      );
      workers.run();
      await workers.waitUntilReady();
      return workers;
    },
  };
}

describe('flag workers on Redis', () => {
  it('runs a download flow and returns the summary in request order', async () => {
    const h = await harness();
    await h.startWorkers();
    const summary = await h.download(['CN', 'IN', 'US', 'XK', 'BR'], { chunkSize: 2 });
    expect(summary).toMatchObject({ total: 5, saved: 4, notFound: 1, failed: 0 });
    expect(summary.outcomes.map((outcome) => [outcome.code, outcome.status])).toEqual([
      ['CN', 'OK'],
      ['IN', 'OK'],
      ['US', 'OK'],
      ['XK', 'NOT_FOUND'],
      ['BR', 'OK'],
    ]);
    expect(summary.files).toEqual(['CN_China.gif', 'IN_India.gif', 'US_United_States.gif', 'BR_Brazil.gif']);
    expect(summary.message).toMatch(/^4 flags downloaded in \d+\.\d\ds \(1 not found\)$/);
    expect((await readdir(h.folder)).sort()).toEqual([...summary.files].sort());
  });

  it("reports a chunk that failed for good: its flags are ERROR with the chunk's reason", async () => {
    const h = await harness();
    const diskFullFor = 'DE_Germany.gif';
    await h.startWorkers({
      store: {
        save: (name, bytes) =>
          name === diskFullFor
            ? Promise.reject(new Error('ENOSPC: no space left on device'))
            : h.store.save(name, bytes),
        open: (name) => h.store.open(name),
      },
    });
    const summary = await h.download(['CN', 'IN', 'FR', 'DE'], { chunkSize: 2, chunkAttempts: 2 });
    expect(summary).toMatchObject({ saved: 3, failed: 1 });
    // FR was saved before DE failed its chunk, and stays reported as saved.
    expect(summary.outcomes[2]).toMatchObject({ code: 'FR', status: 'OK' });
    expect(summary.outcomes[3]).toMatchObject({ code: 'DE', status: 'ERROR' });
    expect(summary.outcomes[3]?.reason).toContain('ENOSPC');
  });

  it('hands a running chunk back on shutdown; another worker finishes it without downloading twice', async () => {
    const h = await harness();
    let heldRequestArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (heldRequestArrived = resolve));
    held.set('jp', heldRequestArrived);
    const first = await h.startWorkers({ env: { FLAG_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: '200' } });
    const { id, finished } = await h.add(['CN', 'IN', 'JP', 'DE'], { chunkSize: 4 });
    await arrived; // CN and IN are saved; JP hangs

    await first.close(); // past the 200 ms grace: JP is aborted and the chunk goes back to wait
    const flagsQueue = new Queue(QueueNames.flags, { connection: redisFor('worker'), prefix: h.prefix });
    cleanups.push(() => flagsQueue.close());
    const chunk = await flagsQueue.getJob(chunkJobId(id, 0));
    expect(await chunk?.getState()).toBe('waiting');
    expect(chunk?.attemptsMade).toBe(0); // handed back, not failed: no attempt spent
    expect(Contracts.chunkProgress.parse(chunk?.progress).outcomes.map((outcome) => outcome.code)).toEqual([
      'CN',
      'IN',
    ]);
    held.delete('jp');
    const before = Object.fromEntries(gifHits);
    await h.startWorkers();
    const summary = Contracts.downloadSummary.parse(await finished);

    expect(summary).toMatchObject({ total: 4, saved: 4, failed: 0 });
    const after = Object.fromEntries(gifHits);
    expect(after.cn).toBe(before.cn); // not downloaded again
    expect(after.in).toBe(before.in);
    expect((after.jp ?? 0) - (before.jp ?? 0)).toBe(1);
  });

  it('fails a chunk with poisoned job data for good, and the download still completes', async () => {
    const h = await harness();
    await h.startWorkers();
    const id = randomUUID();
    const flows = new FlowProducer({ connection: redisFor('worker'), prefix: h.prefix });
    cleanups.push(() => flows.close());
    const flow = buildDownloadFlow(id, ['CN', 'IN'], { prefix: h.prefix, chunkSize: 1 });
    const poisoned = flow.children?.[1];
    if (poisoned !== undefined) poisoned.data = { downloadId: id, chunk: 1, codes: ['../../etc'] };
    const events = new QueueEvents(QueueNames.downloads, {
      connection: redisFor('events'),
      prefix: h.prefix,
      lastEventId: FROM_START,
    });
    cleanups.push(() => events.close());
    await events.waitUntilReady();
    const node = await flows.add(flow);
    const summary = Contracts.downloadSummary.parse(await node.job.waitUntilFinished(events));
    expect(summary.outcomes[0]).toMatchObject({ code: 'CN', status: 'OK' });
    expect(summary.outcomes[1]).toMatchObject({ code: 'IN', status: 'ERROR' });
    expect(summary.outcomes[1]?.reason).toContain('invalid chunk job data');
  });

  it('takes over the chunk of a killed worker process and skips the flags it had saved', async () => {
    const h = await harness();
    let heldRequestArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (heldRequestArrived = resolve));
    held.set('fr', heldRequestArrived);
    const progress = new QueueEvents(QueueNames.flags, {
      connection: redisFor('events'),
      prefix: h.prefix,
      lastEventId: FROM_START,
    });
    cleanups.push(() => progress.close());
    await progress.waitUntilReady();
    const twoSaved = new Promise<void>((resolve) =>
      progress.on('progress', ({ data }) => {
        if (Contracts.chunkProgress.check(data) && data.outcomes.length >= 2) resolve();
      }),
    );

    const child = await startWorkerProcess(h, { FLAG_CONCURRENCY: '1' });
    const { finished } = await h.add(['CN', 'IN', 'FR', 'DE'], { chunkSize: 4 });
    await Promise.all([arrived, twoSaved]); // CN and IN saved and reported; FR hangs
    child.kill('SIGKILL');
    await once(child, 'exit');
    held.delete('fr');
    const before = Object.fromEntries(gifHits);

    await h.startWorkers({ settings: { lockDuration: 1_000, stalledInterval: 200 } });
    const summary = Contracts.downloadSummary.parse(await finished);
    expect(summary).toMatchObject({ total: 4, saved: 4, failed: 0 });
    const after = Object.fromEntries(gifHits);
    expect(after.cn).toBe(before.cn);
    expect(after.in).toBe(before.in);
    expect((after.fr ?? 0) - (before.fr ?? 0)).toBe(1);
  });

  it('runs a single-job download itself: summary in request order, progress reported on the job', async () => {
    const h = await harness();
    const progress = new QueueEvents(QueueNames.downloads, {
      connection: redisFor('events'),
      prefix: h.prefix,
      lastEventId: FROM_START,
    });
    cleanups.push(() => progress.close());
    await progress.waitUntilReady();
    const reported: unknown[] = [];
    progress.on('progress', ({ data }) => reported.push(data));
    await h.startWorkers();
    const { id, finished } = await h.addSingle(['CN', 'XK', 'US']);
    const summary = Contracts.downloadSummary.parse(await finished);
    expect(summary).toMatchObject({ total: 3, saved: 2, notFound: 1, failed: 0 });
    expect(summary.outcomes.map((outcome) => [outcome.code, outcome.status])).toEqual([
      ['CN', 'OK'],
      ['XK', 'NOT_FOUND'],
      ['US', 'OK'],
    ]);
    expect(summary.message).toMatch(/^2 flags downloaded in \d+\.\d\ds \(1 not found\)$/);
    expect((await readdir(h.folder)).sort()).toEqual(['CN_China.gif', 'US_United_States.gif']);
    // Progress is a ChunkProgress of chunk 0 under the download's own id, as the API reads it.
    const last = Contracts.chunkProgress.parse((await h.downloads.getJob(id))?.progress);
    expect(last).toMatchObject({ downloadId: id, chunk: 0, total: 3 });
    expect(last.outcomes).toHaveLength(3);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every((data) => Contracts.chunkProgress.check(data))).toBe(true);
  });

  it('completes a single-job download whose store fails on its last attempt, those flags ERROR', async () => {
    const h = await harness();
    await h.startWorkers({
      env: { FLAG_CONCURRENCY: '1' },
      store: {
        save: (name, bytes) =>
          name === 'DE_Germany.gif'
            ? Promise.reject(new Error('ENOSPC: no space left on device'))
            : h.store.save(name, bytes),
        open: (name) => h.store.open(name),
      },
    });
    const { id, finished } = await h.addSingle(['CN', 'FR', 'DE', 'IN'], { chunkAttempts: 2 });
    const summary = Contracts.downloadSummary.parse(await finished);
    expect(summary).toMatchObject({ total: 4, saved: 2, failed: 2 });
    expect(summary.outcomes.map((outcome) => [outcome.code, outcome.status])).toEqual([
      ['CN', 'OK'],
      ['FR', 'OK'], // saved before DE failed, and kept
      ['DE', 'ERROR'],
      ['IN', 'ERROR'], // never started: the job stopped at DE's failure
    ]);
    expect(summary.outcomes[2]?.reason).toContain('ENOSPC');
    expect((await h.downloads.getJob(id))?.attemptsMade).toBe(2);
  });

  it('fails a single-job download with poisoned job data for good, without a retry', async () => {
    const h = await harness();
    await h.startWorkers();
    const job = await h.downloads.add('download', { codes: ['../../etc'], inline: true }, { attempts: 3 });
    const events = new QueueEvents(QueueNames.downloads, {
      connection: redisFor('events'),
      prefix: h.prefix,
      lastEventId: FROM_START,
    });
    cleanups.push(() => events.close());
    await events.waitUntilReady();
    await expect(job.waitUntilFinished(events)).rejects.toThrow(/invalid download job data/);
    const failed = await h.downloads.getJob(job.id ?? '');
    expect(await failed?.getState()).toBe('failed');
    expect(failed?.attemptsMade).toBe(1);
  });

  it('hands a running single-job download back on shutdown; another worker finishes it without downloading twice', async () => {
    const h = await harness();
    let heldRequestArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (heldRequestArrived = resolve));
    held.set('br', heldRequestArrived);
    const first = await h.startWorkers({ env: { FLAG_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: '200' } });
    const { id, finished } = await h.addSingle(['DE', 'FR', 'BR', 'JP']);
    await arrived; // DE and FR are saved; BR hangs

    await first.close();
    const job = await h.downloads.getJob(id);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    expect(Contracts.chunkProgress.parse(job?.progress).outcomes.map((outcome) => outcome.code)).toEqual(['DE', 'FR']);
    held.delete('br');
    const before = Object.fromEntries(gifHits);
    await h.startWorkers();
    const summary = Contracts.downloadSummary.parse(await finished);
    expect(summary).toMatchObject({ total: 4, saved: 4, failed: 0 });
    const after = Object.fromEntries(gifHits);
    expect(after.de).toBe(before.de);
    expect(after.fr).toBe(before.fr);
    expect((after.br ?? 0) - (before.br ?? 0)).toBe(1);
  });

  it('main.ts starts a worker process and exits 0 on SIGTERM', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'flagship-worker-main-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../services/worker/src/main.ts')], {
      env: { ...process.env, REDIS_URL: redisUrl, ORIGIN_URL: originUrl, DOWNLOADS_DIR: folder, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(async () => child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    const messages: string[] = [];
    const started = new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        messages.push((JSON.parse(line) as { msg: string }).msg);
        if (messages.includes('worker started')) resolve();
      }),
    );
    await started;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(messages).toContain('stopped');
  });
});

/**
 * A worker in its own process (the logic a real one runs, with short locks), so the
 * test can kill it without a chance to clean up.
 */
async function startWorkerProcess(h: Harness, env: Record<string, string>): Promise<ChildProcess> {
  const scriptFolder = await mkdtemp(path.join(tmpdir(), 'flagship-worker-child-'));
  cleanups.push(() => rm(scriptFolder, { recursive: true, force: true }));
  const moduleUrl = (relative: string) => pathToFileURL(path.resolve(import.meta.dirname, relative)).href;
  const script = path.join(scriptFolder, 'worker-child.mjs');
  await writeFile(
    script,
    `import { createFlagWorkers, createOriginDispatcher, loadConfig } from '${moduleUrl('../services/worker/src/index.ts')}';
import { createLocalFlagStore } from '${moduleUrl('../packages/common/src/index.ts')}';
import { createRedisClient } from '${moduleUrl('../packages/common/src/redis-client.ts')}';
import { silentLogger } from '${moduleUrl('../packages/runtime/src/index.ts')}';
const config = loadConfig(process.env);
const workers = createFlagWorkers({
  config,
  connection: createRedisClient(config.redis, 'worker'),
  dispatcher: createOriginDispatcher(config.originPool),
  store: createLocalFlagStore(config.downloadsDir),
  logger: silentLogger(),
  prefix: process.env.TEST_PREFIX,
  progressIntervalMs: 0,
  workerSettings: { lockDuration: 1000, stalledInterval: 200 },
});
workers.run();
await workers.waitUntilReady();
console.log('ready');
`,
  );
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      ...env,
      REDIS_URL: redisUrl,
      ORIGIN_URL: originUrl,
      DOWNLOADS_DIR: h.folder,
      ORIGIN_HEADERS_TIMEOUT_MS: '60000',
      TEST_PREFIX: h.prefix,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
  return child;
}
