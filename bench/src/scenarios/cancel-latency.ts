// Cancel latency, a standalone benchmark (not part of `npm run bench`):
//
//   . ../shared/ci/env.sh && node bench/src/scenarios/cancel-latency.ts
//
// Redis in a container, the API and 2 worker processes as `npm run bench` starts them
// (flagship-stack.ts), and the Flagship origin in this process with a delay per flag
// response, telling this script of every flag request as it arrives. Each round submits
// every country (250 flags), waits on its event stream until some flags are saved,
// sends DELETE /v1/downloads/:id, and waits until the download's job has failed for good
// with the cancel's reason (then every chunk has stopped). Measured from just before the
// DELETE: its answer, the SSE `cancelled` event, and the last origin request to start
// (0 when none started after the DELETE). Prints p50 and p99 (nearest rank: with 20
// rounds, p99 is the largest) and writes bench/results/cancel-latency.json. Settings:
//   CANCEL_ROUNDS        rounds (default 20)
//   CANCEL_DELAY_MS      origin delay per flag response, ms (default 200)
//   CANCEL_AFTER_FLAGS   flags decided before the DELETE (default 20)
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSse } from '@flagship/cli';
import { DOWNLOAD_CANCELLED_REASON, QUEUE_PREFIX, QueueNames, type DownloadAccepted } from '@flagship/common';
import { DEFAULT_DATA_DIR, createOriginServer, generateFlags, loadFlagDataSet } from '@flagship/origin';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { startFlagshipStack } from '../flagship-stack.ts';
import { currentCommit } from '../machine.ts';
import { startRedis } from '../redis.ts';
import { describe, percentile } from '../stats.ts';
import { positiveIntegerSetting } from '../env-settings.ts';

const WORKERS = 2;
/** 2 processes × 2 chunks × 2 flags: ~8 flags at a time, so a download lasts seconds, not milliseconds. */
const WORKER_ENV = { WORKER_CONCURRENCY: '2', FLAG_CONCURRENCY: '2' };

interface Round {
  /** DELETE sent → its 202 answer. */
  answerMs: number;
  /** DELETE sent → the `cancelled` SSE event. */
  eventMs: number;
  /** DELETE sent → the last origin request that started (0: none after the DELETE). */
  lastRequestMs: number;
  requestsAfter: number;
  doneAtCancel: number;
}

async function main(): Promise<void> {
  const rounds = positiveIntegerSetting('CANCEL_ROUNDS', 20);
  const delayMs = positiveIntegerSetting('CANCEL_DELAY_MS', 200);
  const afterFlags = positiveIntegerSetting('CANCEL_AFTER_FLAGS', 20);
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const work = path.join(repoRoot, 'bench/.work/cancel-latency');
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'logs'), { recursive: true });
  const log = (line: string) => console.log(`[cancel-latency] ${line}`);

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const close of cleanups.reverse()) await close().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

  try {
    await generateFlags({ outDir: DEFAULT_DATA_DIR });
    const requests: number[] = [];
    const origin = createOriginServer({
      dataSet: await loadFlagDataSet(DEFAULT_DATA_DIR),
      delayMs: [delayMs, delayMs],
      onFlagRequest: (request) => requests.push(request.at),
    });
    await origin.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => origin.close());
    const originUrl = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}/data/flags`;

    const redis = await startRedis(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine');
    cleanups.push(() => redis.close());
    const stack = await startFlagshipStack({
      repoRoot,
      redisUrl: redis.url,
      downloadsDir: path.join(work, 'downloads'),
      logDir: path.join(work, 'logs'),
      workerEnv: WORKER_ENV,
    });
    cleanups.push(() => stack.close());
    await stack.setWorkers(WORKERS, originUrl);
    const eventsConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    cleanups.push(() => eventsConnection.quit());
    const downloads = new QueueEvents(QueueNames.downloads, { connection: eventsConnection, prefix: QUEUE_PREFIX });
    cleanups.push(() => downloads.close());
    await downloads.waitUntilReady();
    log(`redis ${redis.version}, ${WORKERS} workers (${JSON.stringify(WORKER_ENV)}), origin delay ${delayMs} ms`);

    const results: Round[] = [];
    for (let round = 1; round <= rounds; round++) {
      results.push(await cancelOnce(stack.apiUrl, downloads, requests, afterFlags));
      const r = results.at(-1) as Round;
      log(
        `round ${round}: answer ${r.answerMs.toFixed(1)} ms, event ${r.eventMs.toFixed(1)} ms, ` +
          `last origin request ${r.lastRequestMs.toFixed(1)} ms (${r.requestsAfter} after the DELETE), ${r.doneAtCancel} flags done`,
      );
    }

    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), ...describe(values) };
    };
    const report = {
      what: 'time from DELETE /v1/downloads/:id to the last origin request, the 202 answer and the SSE cancelled event (ms)',
      when: new Date().toISOString(),
      commit: await currentCommit(repoRoot),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((load) => Number(load.toFixed(2))) },
      settings: {
        rounds,
        workers: WORKERS,
        workerEnv: WORKER_ENV,
        originDelayMs: delayMs,
        cancelAfterFlags: afterFlags,
      },
      lastOriginRequestMs: summary(results.map((r) => r.lastRequestMs)),
      answerMs: summary(results.map((r) => r.answerMs)),
      cancelledEventMs: summary(results.map((r) => r.eventMs)),
      requestsAfterDelete: results.map((r) => r.requestsAfter),
      rounds: results,
    };
    for (const [name, stats] of [
      ['last origin request', report.lastOriginRequestMs],
      ['DELETE answered', report.answerMs],
      ['SSE cancelled', report.cancelledEventMs],
    ] as const) {
      log(`${name}: p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms (max ${stats.max.toFixed(1)})`);
    }
    const out = path.join(repoRoot, 'bench/results/cancel-latency.json');
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${path.relative(repoRoot, out)}`);
  } finally {
    await cleanUp();
  }
}

async function cancelOnce(api: string, downloads: QueueEvents, requests: number[], afterFlags: number): Promise<Round> {
  const response = await fetch(`${api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ all: true }),
  });
  const { id } = (await response.json()) as DownloadAccepted;
  const jobEnded = new Promise<string>((resolve) => {
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      if (jobId !== id) return;
      downloads.off('failed', onFailed);
      resolve(failedReason);
    };
    downloads.on('failed', onFailed);
  });

  let started!: () => void;
  const enoughDone = new Promise<void>((resolve) => (started = resolve));
  let eventAt = Number.NaN;
  const followed = readSse(`${api}/v1/downloads/${id}/events`, (event) => event.event === 'cancelled', {
    onEvent: (event) => {
      if (event.event === 'progress' && (JSON.parse(event.data) as { done: number }).done >= afterFlags) started();
      if (event.event === 'cancelled') eventAt = performance.now();
    },
  });
  await enoughDone;

  const sent = performance.now();
  // A 503 (Redis slower than the API's 1 s deadline, on a loaded machine) is retried, as
  // a client would: a cancel is idempotent. Timed from the first DELETE.
  let cancel = await fetch(`${api}/v1/downloads/${id}`, { method: 'DELETE' });
  for (let retry = 0; cancel.status === 503 && retry < 5; retry++) {
    await cancel.body?.cancel();
    cancel = await fetch(`${api}/v1/downloads/${id}`, { method: 'DELETE' });
  }
  const answered = performance.now();
  const status = (await cancel.json()) as { state: string; done: number };
  if (cancel.status !== 202 || status.state !== 'cancelled') throw new Error(`DELETE: ${cancel.status}`);
  await followed;
  const reason = await jobEnded; // every chunk has stopped: no request can start any more
  if (reason !== DOWNLOAD_CANCELLED_REASON) throw new Error(`the download's job failed with "${reason}"`);
  const after = requests.filter((at) => at >= sent);
  return {
    answerMs: answered - sent,
    eventMs: eventAt - sent,
    lastRequestMs: after.length === 0 ? 0 : Math.max(...after) - sent,
    requestsAfter: after.length,
    doneAtCancel: status.done,
  };
}

await main();
