// List latency: GET /v1/downloads?limit=50 with 100 and with 100,000 finished downloads
// in Redis, to show that a page costs the same however many downloads are kept (the
// index's sorted sets, never a SCAN). Standalone, not part of `npm run bench`:
//
//   . ../shared/ci/env.sh && node bench/src/scenarios/list-latency.ts
//
// One Redis container ($REDIS_IMAGE, reached at its own address), two API instances in
// this process, each on its own key prefix seeded directly with pipelines (a record and
// its three set entries per download, as the index's scripts write them). Requests go
// one at a time over keep-alive, the two sizes alternating round by round; the first
// page and a page from the middle of the walk (by cursor) are both measured. Prints a
// table, writes bench/.work/list-latency.json, and exits 1 when the medians of the first
// page are more than 2× apart.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, createBullmqDownloadQueues } from '@flagship/api';
import {
  HttpContracts,
  createLocalFlagStore,
  downloadIndexKeys,
  downloadRecordFields,
  type DownloadRecord,
} from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { Redis } from 'ioredis';
import { startRedis, type BenchRedis } from '../redis.ts';
import { describe, type SampleStats } from '../stats.ts';

const LIMIT = 50;
const SEED_BATCH = 1_000;
const SEED_LANES = 4;

export interface ListLatencyOptions {
  redisImage: string;
  sizes?: readonly number[];
  /** Measured requests per size and page kind, spread over `rounds`. */
  requests?: number;
  rounds?: number;
  warmups?: number;
  log?: (line: string) => void;
}

export interface ListLatencyRow {
  downloads: number;
  page: 'first' | 'middle';
  ms: SampleStats;
}

export interface ListLatencyResult {
  redisVersion: string;
  limit: number;
  rows: ListLatencyRow[];
  /** Median of the first page at the largest size over the smallest. */
  ratio: number;
}

/** Writes `count` finished downloads straight into the index of `prefix`, in pipelines (a few in flight). */
export async function seedFinishedDownloads(redis: Redis, prefix: string, count: number): Promise<void> {
  const keys = downloadIndexKeys(prefix);
  const start = Date.now() - count * 10 - 60_000;
  async function batch(first: number): Promise<void> {
    const pipeline = redis.pipeline();
    for (let n = first; n < Math.min(count, first + SEED_BATCH); n++) {
      const createdAt = start + n * 10;
      const record: DownloadRecord = {
        id: randomUUID(),
        state: 'completed',
        total: 20,
        done: 20,
        saved: 19,
        notFound: 1,
        failed: 0,
        createdAt,
        finishedAt: createdAt + 40,
      };
      pipeline
        .hset(keys.record(record.id), downloadRecordFields(record))
        .zadd(keys.all, createdAt, record.id)
        .zadd(keys.state('completed'), createdAt, record.id)
        .zadd(keys.finished, createdAt + 40, record.id);
    }
    const results = await pipeline.exec();
    const failure = results?.find(([error]) => error !== null);
    if (failure) throw failure[0];
  }
  const batches = Array.from({ length: Math.ceil(count / SEED_BATCH) }, (_, n) => n * SEED_BATCH);
  const lanes = Array.from({ length: SEED_LANES }, async () => {
    for (let first = batches.shift(); first !== undefined; first = batches.shift()) await batch(first);
  });
  await Promise.all(lanes);
}

interface ListApi {
  url: string;
  close(): Promise<void>;
}

async function startApi(redisUrl: string, prefix: string): Promise<ListApi> {
  const producer = createRedisClient({ mode: 'standalone', url: redisUrl }, 'producer');
  const events = createRedisClient({ mode: 'standalone', url: redisUrl }, 'events');
  await Promise.all([once(producer, 'ready'), once(events, 'ready')]);
  const dir = await mkdtemp(path.join(tmpdir(), 'flagship-list-bench-'));
  const app = await buildApp({
    config: { chunkSize: 25, bodyLimitBytes: 65_536, sseHeartbeatMs: 60_000 },
    queues: createBullmqDownloadQueues({ connection: producer, eventsConnection: events, prefix }),
    store: createLocalFlagStore(dir),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await app.close();
      producer.disconnect();
      events.disconnect();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One page, timed from the request to its last byte; checked against the shared schema. */
async function timedPage(url: string): Promise<{ ms: number; nextCursor: string | null; items: number }> {
  const started = performance.now();
  const response = await fetch(url);
  const body: unknown = await response.json();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${JSON.stringify(body)}`);
  const page = HttpContracts.downloadList.parse(body);
  return { ms, nextCursor: page.nextCursor, items: page.items.length };
}

/** The cursor that starts the page in the middle of the walk: walk there once, page by page. */
async function middleCursor(api: ListApi, downloads: number): Promise<string | null> {
  const step = Math.min(100, Math.floor(downloads / 2));
  let cursor: string | null = null;
  for (let n = 0; n < Math.floor(downloads / 2 / step); n++) {
    const page: { nextCursor: string | null } = await timedPage(
      `${api.url}/v1/downloads?limit=${step}${cursor === null ? '' : `&cursor=${cursor}`}`,
    );
    cursor = page.nextCursor;
  }
  return cursor;
}

export async function runListLatency(options: ListLatencyOptions): Promise<ListLatencyResult> {
  const sizes = options.sizes ?? [100, 100_000];
  const rounds = options.rounds ?? 10;
  const perRound = Math.ceil((options.requests ?? 300) / rounds);
  const log = options.log ?? (() => {});
  const redis: BenchRedis = await startRedis(options.redisImage);
  const admin = new Redis(redis.url);
  const apis: { downloads: number; api: ListApi; urls: Record<ListLatencyRow['page'], string> }[] = [];
  try {
    for (const downloads of sizes) {
      const prefix = `{bench-list-${downloads}}`;
      const seeded = performance.now();
      await seedFinishedDownloads(admin, prefix, downloads);
      log(`seeded ${downloads} finished downloads in ${Math.round(performance.now() - seeded)} ms`);
      const api = await startApi(redis.url, prefix);
      const cursor = await middleCursor(api, downloads);
      const first = `${api.url}/v1/downloads?limit=${LIMIT}`;
      apis.push({ downloads, api, urls: { first, middle: cursor === null ? first : `${first}&cursor=${cursor}` } });
    }
    const samples = new Map<string, number[]>();
    const pages = ['first', 'middle'] as const;
    for (const { urls } of apis) {
      for (const page of pages) for (let n = 0; n < (options.warmups ?? 30); n++) await timedPage(urls[page]);
    }
    for (let round = 0; round < rounds; round++) {
      // Alternate the sizes (and flip their order every round) so both see the same machine.
      const order = round % 2 === 0 ? apis : [...apis].reverse();
      for (const { downloads, urls } of order) {
        for (const page of pages) {
          for (let n = 0; n < perRound; n++) {
            const { ms, items } = await timedPage(urls[page]);
            if (items !== Math.min(LIMIT, downloads)) throw new Error(`a page of ${items} items, not ${LIMIT}`);
            const key = `${downloads}/${page}`;
            samples.set(key, [...(samples.get(key) ?? []), ms]);
          }
        }
      }
      log(`round ${round + 1}/${rounds} done`);
    }
    const rows = apis.flatMap(({ downloads }) =>
      pages.map((page) => ({ downloads, page, ms: describe(samples.get(`${downloads}/${page}`) ?? []) })),
    );
    const firstOf = (downloads: number | undefined) =>
      rows.find((row) => row.downloads === downloads && row.page === 'first')?.ms.median ?? Number.NaN;
    return {
      redisVersion: redis.version,
      limit: LIMIT,
      rows,
      ratio: firstOf(sizes.at(-1)) / firstOf(sizes[0]),
    };
  } finally {
    for (const { api } of apis) await api.close().catch(() => undefined);
    admin.disconnect();
    await redis.close();
  }
}

export function formatListLatency(result: ListLatencyResult): string {
  const lines = [
    `GET /v1/downloads?limit=${result.limit} (Redis ${result.redisVersion}), ms per request:`,
    '',
    '| finished downloads | page   | median | p95  | min  | max  | n   |',
    '| ------------------ | ------ | ------ | ---- | ---- | ---- | --- |',
    ...result.rows.map(
      ({ downloads, page, ms }) =>
        `| ${String(downloads).padEnd(18)} | ${page.padEnd(6)} | ${ms.median.toFixed(2).padStart(6)} | ` +
        `${ms.p95.toFixed(2)} | ${ms.min.toFixed(2)} | ${ms.max.toFixed(2)} | ${ms.n} |`,
    ),
    '',
    `first page, median at the largest size / at the smallest: ${result.ratio.toFixed(2)}× (target ≤ 2×)`,
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const redisImage = process.env.REDIS_IMAGE;
  if (!redisImage) {
    console.error('REDIS_IMAGE is not set: run `. ../shared/ci/env.sh` first (it exports offline/redis:7)');
    process.exit(2);
  }
  const result = await runListLatency({ redisImage, log: (line) => console.error(line) });
  console.log(formatListLatency(result));
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../.work/list-latency.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.ratio <= 2 ? 0 : 1;
}
