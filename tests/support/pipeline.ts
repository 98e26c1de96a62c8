// The whole pipeline in this process, as main.ts files wire it: the Flagship origin
// (real generated flags, optional faults), the worker and the API listening on
// 127.0.0.1:0, all on one Redis with a fresh queue prefix. Tests reach it over HTTP
// like a user would. Several worker processes are stood for by several worker sets,
// each with its own Redis connections (and so its own cancel subscriber). Optionally
// observed as in production: metrics on the API and on a worker health port (one
// registry for every worker set, as they share the process), and traces when given
// BullMQ telemetry (tracing started by the test).
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildApp,
  createApiMetrics,
  createBullmqDownloadQueues,
  createQueueDepthReader,
  type AppConfig,
} from '@flagship/api';
import { createLocalFlagStore, type RedisClient, type RedisRole, type Retention } from '@flagship/common';
import { createRedisClient, type RedisClientOverrides } from '@flagship/common/redis';
import { closeAll, silentLogger, type Closer, type Logger } from '@flagship/runtime';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import type { Telemetry } from 'bullmq';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  DEFAULT_DATA_DIR,
  createOriginServer,
  type FlagRequest,
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
  type FlagWorkers,
} from '@flagship/worker';

export interface Pipeline {
  api: string;
  /** The fresh BullMQ key prefix of this pipeline's queues and index. */
  prefix: string;
  /** The worker's GET /metrics, with `metrics: true`. */
  workerMetrics?: string;
  downloadsDir: string;
  dataSet: FlagDataSet;
  /** The origin's flags URL (ORIGIN_URL), for workers started elsewhere. */
  originUrl: string;
  close(): Promise<void>;
}

export interface PipelineOptions {
  /** Any REDIS_URL the services take: one node, redis+sentinel://, redis+cluster://. */
  redisUrl: string;
  /** For the connections' factory: a NAT map for Sentinel or Cluster containers. */
  redisOverrides?: RedisClientOverrides;
  /** Origin faults (delay, error rate, seed, codes that always fail). */
  faults?: FaultOptions;
  /** Codes the origin does not have (it answers 404 for them). */
  missingCodes?: string[];
  /** Worker environment overrides, as strings like the real environment. */
  workerEnv?: Record<string, string>;
  chunkSize?: number;
  /** The API's DOWNLOAD_RETENTION_S and DOWNLOAD_RETENTION_COUNT. Default theirs. */
  retention?: Retention;
  /** Worker sets in this process, each as a worker process would be. Default 1; 0: the test starts its own. */
  workers?: number;
  /** Told of every flag request the origin receives. */
  onOriginRequest?: (request: FlagRequest) => void;
  /** Over the API's test settings: API keys, rate limit (counted in Redis), Redis timeout. */
  api?: Partial<AppConfig>;
  /** Metrics on the API (GET /metrics) and the workers (a health port). */
  metrics?: boolean;
  /** BullMQ telemetry (createQueueTelemetry, after startTracing): request, enqueue, job, flag and save spans. */
  telemetry?: Telemetry;
  /** Loggers of the API and the workers. Default silent. */
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
    ...(options.onOriginRequest ? { onFlagRequest: options.onOriginRequest } : {}),
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
  // As main.ts connects: the factory, on the endpoint the configuration read.
  const connect = (role: RedisRole) => createRedisClient(workerConfig.redis, role, options.redisOverrides);
  const workerConnections: RedisClient[] = [];
  const workers: FlagWorkers[] = [];
  const dispatcher = createOriginDispatcher(workerConfig.originPool);
  const store = createLocalFlagStore(downloadsDir);
  const workerMetrics = options.metrics ? createWorkerMetrics({ originUrl }) : undefined;
  for (let i = 0; i < (options.workers ?? 1); i++) {
    const workerConnection = connect('worker');
    workerConnections.push(workerConnection);
    const set = createFlagWorkers({
      config: workerConfig,
      connection: workerConnection,
      dispatcher,
      store,
      logger: options.logger?.worker ?? silentLogger(),
      prefix,
      metrics: workerMetrics,
      telemetry: options.telemetry,
    });
    workers.push(set);
    set.run();
    await set.waitUntilReady();
  }
  const health = createHealthServer(() => {
    const redis = workerConnections.find((connection) => connection.status !== 'ready')?.status ?? 'ready';
    return { ok: redis === 'ready', redis, accepting: true };
  }, workerMetrics?.registry);
  if (workerMetrics) {
    health.listen(0, '127.0.0.1');
    await once(health, 'listening');
  }

  const producer = connect('producer');
  const events = connect('events');
  // They reconnect by themselves (a test may restart Redis); unheard, each error is printed.
  for (const connection of [...workerConnections, producer, events]) connection.on('error', () => {});
  await Promise.all([once(producer, 'ready'), once(events, 'ready')]);
  const apiMetrics = options.metrics
    ? createApiMetrics({ queueDepth: createQueueDepthReader({ connection: producer, prefix }) })
    : undefined;
  const app = await buildApp({
    config: {
      chunkSize: options.chunkSize ?? 25,
      bodyLimitBytes: 65_536,
      sseHeartbeatMs: 60_000,
      ...(options.retention ? { downloadRetention: options.retention } : {}),
      ...options.api,
    },
    queues: createBullmqDownloadQueues({
      connection: producer,
      eventsConnection: events,
      prefix,
      ...(options.api?.redisTimeoutMs === undefined ? {} : { timeoutMs: options.api.redisTimeoutMs }),
      telemetry: options.telemetry,
    }),
    store,
    rateLimitRedis: producer,
    logger: options.logger?.api,
    metrics: apiMetrics,
    tracing: options.telemetry !== undefined,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });

  // The order of main.ts: intake first, then work, then connections.
  closers.unshift({ name: 'api', close: () => app.close() });
  closers.push(
    { name: 'workers', close: () => Promise.all(workers.map((set) => set.close())) },
    { name: 'metrics', close: () => Promise.all([apiMetrics?.close(), workerMetrics?.close()]) },
    { name: 'worker health port', close: () => new Promise((resolve) => health.close(resolve)) },
    { name: 'origin', close: () => origin.close() },
    { name: 'dispatcher', close: () => dispatcher.close() },
    {
      name: 'redis',
      close: () => Promise.all([producer, events, ...workerConnections].map((connection) => connection.quit())),
    },
    { name: 'downloads', close: () => rm(downloadsDir, { recursive: true, force: true }) },
  );
  return {
    api: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    prefix,
    ...(workerMetrics ? { workerMetrics: `http://127.0.0.1:${(health.address() as AddressInfo).port}/metrics` } : {}),
    downloadsDir,
    dataSet: data,
    originUrl,
    close: () => closeAll(closers),
  };
}

export interface PipelinePerTest {
  /** Starts this test's pipeline on the file's Redis; it is closed after the test. */
  start(options?: Omit<PipelineOptions, 'redisUrl'>): Promise<Pipeline>;
  /** The file's Redis, for a test's own connections. */
  redisUrl(): string;
  /** Runs after this test, before its pipeline closes (last registered, first run). */
  afterThisTest(cleanup: () => Promise<unknown>): void;
}

/**
 * Call at the top of a test file: one Redis container for the file (started with the
 * origin's data set before its tests, stopped after them) and a pipeline per test.
 */
export function pipelinePerTest(): PipelinePerTest {
  let redis: StartedRedisContainer | undefined;
  let pipeline: Pipeline | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    [redis] = await Promise.all([
      new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start(),
      originDataSet(),
    ]);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await pipeline?.close();
    pipeline = undefined;
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const redisUrl = () => {
    if (redis === undefined) throw new Error('Redis is not started yet');
    return redis.getConnectionUrl();
  };
  return {
    redisUrl,
    async start(options = {}) {
      pipeline = await startPipeline({ redisUrl: redisUrl(), ...options });
      return pipeline;
    },
    afterThisTest: (cleanup) => void cleanups.push(cleanup),
  };
}
