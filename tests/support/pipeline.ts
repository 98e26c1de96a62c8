// The whole pipeline in this process, as main.ts files wire it: the Flagship origin
// (real generated flags, optional faults), the worker and the API listening on
// 127.0.0.1:0, all on one Redis with a fresh queue prefix. Tests reach it over HTTP
// like a user would. Optionally observed as in production: metrics on the API and on a
// worker health port, and traces when given BullMQ telemetry (tracing started by the test).
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, createApiMetrics, createBullmqDownloadQueues, createQueueDepthReader } from '@flagship/api';
import { createLocalFlagStore, redisOptions } from '@flagship/common';
import { Redis } from 'ioredis';
import { closeAll, silentLogger, type Closer, type Logger } from '@flagship/runtime';
import type { Telemetry } from 'bullmq';
import {
  DEFAULT_DATA_DIR,
  createOriginServer,
  generateFlags,
  loadFlagDataSet,
  type FaultOptions,
  type FlagDataSet,
} from '@flagship/origin';
import {
  createFlagWorkers,
  createHealthServer,
  createOriginDispatcher,
  createWorkerMetrics,
  loadConfig as loadWorkerConfig,
} from '@flagship/worker';

export interface Pipeline {
  api: string;
  /** The worker's GET /metrics, with `metrics: true`. */
  workerMetrics?: string;
  downloadsDir: string;
  dataSet: FlagDataSet;
  close(): Promise<void>;
}

export interface PipelineOptions {
  redisUrl: string;
  /** Origin faults (delay, error rate, seed, codes that always fail). */
  faults?: FaultOptions;
  /** Codes the origin does not have (it answers 404 for them). */
  missingCodes?: string[];
  /** Worker environment overrides, as strings like the real environment. */
  workerEnv?: Record<string, string>;
  chunkSize?: number;
  /** Metrics on the API (GET /metrics) and the worker (a health port). */
  metrics?: boolean;
  /** BullMQ telemetry (createQueueTelemetry, after startTracing): request, enqueue, job, flag and save spans. */
  telemetry?: Telemetry;
  /** Loggers of the API and the worker. Default silent. */
  logger?: { api?: Logger; worker?: Logger };
}

let dataSet: Promise<FlagDataSet> | undefined;

/** The origin's generated data set, rendered once per test run (it takes ~2 s). */
export function originDataSet(): Promise<FlagDataSet> {
  return (dataSet ??= generateFlags({ outDir: DEFAULT_DATA_DIR }).then(() => loadFlagDataSet(DEFAULT_DATA_DIR)));
}

function withoutCodes(set: FlagDataSet, missing: readonly string[]): FlagDataSet {
  const gone = new Set(missing.map((code) => code.toLowerCase()));
  return { ...set, get: (code) => (gone.has(code.toLowerCase()) ? undefined : set.get(code)) };
}

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const closers: Closer[] = [];
  const prefix = `{test-${randomUUID()}}`;
  const downloadsDir = await mkdtemp(path.join(tmpdir(), 'flagship-pipeline-'));
  const data = await originDataSet();

  const origin = createOriginServer({
    dataSet: withoutCodes(data, options.missingCodes ?? []),
    ...options.faults,
    logger: silentLogger(),
  });
  await origin.listen({ port: 0, host: '127.0.0.1' });
  const originUrl = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}/data/flags`;

  const workerConfig = loadWorkerConfig({
    REDIS_URL: options.redisUrl,
    ORIGIN_URL: originUrl,
    DOWNLOADS_DIR: downloadsDir,
    RETRY_BASE_DELAY_MS: '5',
    ...options.workerEnv,
  });
  const workerConnection = new Redis(options.redisUrl, redisOptions('worker'));
  const dispatcher = createOriginDispatcher(workerConfig.originPool);
  const store = createLocalFlagStore(downloadsDir);
  const workerMetrics = options.metrics ? createWorkerMetrics({ originUrl }) : undefined;
  const workers = createFlagWorkers({
    config: workerConfig,
    connection: workerConnection,
    dispatcher,
    store,
    logger: options.logger?.worker ?? silentLogger(),
    prefix,
    metrics: workerMetrics,
    telemetry: options.telemetry,
  });
  workers.run();
  await workers.waitUntilReady();
  const health = createHealthServer(
    () => ({ ok: true, redis: workerConnection.status, accepting: true }),
    workerMetrics?.registry,
  );
  if (workerMetrics) {
    health.listen(0, '127.0.0.1');
    await once(health, 'listening');
  }

  const producer = new Redis(options.redisUrl, redisOptions('producer'));
  const events = new Redis(options.redisUrl, redisOptions('events'));
  await Promise.all([once(producer, 'ready'), once(events, 'ready')]);
  const apiMetrics = options.metrics
    ? createApiMetrics({ queueDepth: createQueueDepthReader({ connection: producer, prefix }) })
    : undefined;
  const app = await buildApp({
    config: { chunkSize: options.chunkSize ?? 25, bodyLimitBytes: 65_536, sseHeartbeatMs: 60_000 },
    queues: createBullmqDownloadQueues({
      connection: producer,
      eventsConnection: events,
      prefix,
      telemetry: options.telemetry,
    }),
    store,
    logger: options.logger?.api,
    metrics: apiMetrics,
    tracing: options.telemetry !== undefined,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });

  // The order of main.ts: intake first, then work, then connections.
  closers.push(
    { name: 'api', close: () => app.close() },
    { name: 'workers', close: () => workers.close() },
    { name: 'metrics', close: () => Promise.all([apiMetrics?.close(), workerMetrics?.close()]) },
    { name: 'worker health port', close: () => new Promise((resolve) => health.close(resolve)) },
    { name: 'origin', close: () => origin.close() },
    { name: 'dispatcher', close: () => dispatcher.close() },
    { name: 'redis', close: () => Promise.all([producer.quit(), events.quit(), workerConnection.quit()]) },
    { name: 'downloads', close: () => rm(downloadsDir, { recursive: true, force: true }) },
  );
  return {
    api: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    ...(workerMetrics ? { workerMetrics: `http://127.0.0.1:${(health.address() as AddressInfo).port}/metrics` } : {}),
    downloadsDir,
    dataSet: data,
    close: () => closeAll(closers),
  };
}
