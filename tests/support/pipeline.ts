// The whole pipeline in this process, as main.ts files wire it: the Flagship origin
// (real generated flags, optional faults), the worker and the API listening on
// 127.0.0.1:0, all on one Redis with a fresh queue prefix. Tests reach it over HTTP
// like a user would.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, createBullmqDownloadQueues, type AppConfig } from '@flagship/api';
import { createLocalFlagStore, redisOptions } from '@flagship/common';
import { Redis } from 'ioredis';
import { closeAll, silentLogger, type Closer } from '@flagship/runtime';
import {
  DEFAULT_DATA_DIR,
  createOriginServer,
  generateFlags,
  loadFlagDataSet,
  type FaultOptions,
  type FlagDataSet,
} from '@flagship/origin';
import { createFlagWorkers, createOriginDispatcher, loadConfig as loadWorkerConfig } from '@flagship/worker';

export interface Pipeline {
  api: string;
  downloadsDir: string;
  dataSet: FlagDataSet;
  /** The origin's flags URL (ORIGIN_URL) and the queue prefix, for workers started elsewhere. */
  originUrl: string;
  prefix: string;
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
  /** Run a worker in this process (default); false: the test starts its own. */
  inProcessWorker?: boolean;
  /** Over the API's test settings: API keys, rate limit (counted in Redis), Redis timeout. */
  api?: Partial<AppConfig>;
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
  if (options.inProcessWorker !== false) {
    const workers = createFlagWorkers({
      config: workerConfig,
      connection: workerConnection,
      dispatcher,
      store,
      logger: silentLogger(),
      prefix,
    });
    workers.run();
    await workers.waitUntilReady();
    closers.push({ name: 'workers', close: () => workers.close() });
  }

  const producer = new Redis(options.redisUrl, redisOptions('producer'));
  const events = new Redis(options.redisUrl, redisOptions('events'));
  // They reconnect by themselves (a test may restart Redis); unheard, each error is printed.
  for (const connection of [workerConnection, producer, events]) connection.on('error', () => {});
  await Promise.all([once(producer, 'ready'), once(events, 'ready')]);
  const app = await buildApp({
    config: { chunkSize: options.chunkSize ?? 25, bodyLimitBytes: 65_536, sseHeartbeatMs: 60_000, ...options.api },
    queues: createBullmqDownloadQueues({
      connection: producer,
      eventsConnection: events,
      prefix,
      ...(options.api?.redisTimeoutMs === undefined ? {} : { timeoutMs: options.api.redisTimeoutMs }),
    }),
    store,
    rateLimitRedis: producer,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });

  // The order of main.ts: intake first, then work, then connections.
  closers.unshift({ name: 'api', close: () => app.close() });
  closers.push(
    { name: 'origin', close: () => origin.close() },
    { name: 'dispatcher', close: () => dispatcher.close() },
    { name: 'redis', close: () => Promise.all([producer.quit(), events.quit(), workerConnection.quit()]) },
    { name: 'downloads', close: () => rm(downloadsDir, { recursive: true, force: true }) },
  );
  return {
    api: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    downloadsDir,
    dataSet: data,
    originUrl,
    prefix,
    close: () => closeAll(closers),
  };
}
