// BullMQ wiring only: two Workers that hand each job to its handler (handlers/). The
// chunk worker (queue `flags`) runs chunk jobs; the download worker (queue `downloads`)
// runs download jobs of both shapes. Nothing is started here: `run()` starts, `close()`
// stops taking jobs, lets running ones finish within the grace period, then hands the
// rest back to the queue. Every job runs tracked by the process's cancel listener
// (cancel-listener.ts), so a cancelled download's jobs stop here too.
import {
  DOWNLOAD_CANCELLED_REASON,
  QUEUE_PREFIX,
  QueueNames,
  downloadIndex,
  downloadIdOfChunkJob,
  type ChunkJobData,
  type ChunkResult,
  type DownloadJobData,
  type DownloadSummary,
  type FlagStore,
  type QueueName,
  type RedisClient,
} from '@flagship/common';
import { once, withTimeout, type Logger } from '@flagship/runtime';
import { Queue, Worker, type Job, type Telemetry, type WorkerOptions } from 'bullmq';
import type { Dispatcher } from 'undici';
import { createCancelListener, type JobCanceller } from './cancel-listener.ts';
import type { WorkerConfig } from './config.ts';
import { createDownloadIndexWriter } from './downloads/index-writer.ts';
import { downloadFlag, type DownloadFlagDeps } from './flags/download-flag.ts';
import { traceFlagDownloads, traceStoreSaves } from './flags/flag-spans.ts';
import { handleChunkJob } from './handlers/chunk-job.ts';
import type { ChunkRunDeps } from './handlers/chunk-run.ts';
import { handleDownloadJob } from './handlers/download-job.ts';
import { HAND_BACK, type JobRun, type RunCancellation } from './handlers/job-run.ts';
import { createDownloadPolicies } from './flags/download-policies.ts';
import type { Processor, WorkerMetrics } from './metrics/worker-metrics.ts';

export interface FlagWorkersOptions {
  /** Settings read from the environment (loadConfig). */
  config: Pick<
    WorkerConfig,
    | 'originUrl'
    | 'workerConcurrency'
    | 'flagConcurrency'
    | 'flagAttempts'
    | 'retryBaseDelayMs'
    | 'shutdownTimeoutMs'
    | 'flagDeadlineMs'
    | 'originAllowedHosts'
    | 'originRateLimit'
    | 'jobLock'
  >;
  /** Shared ioredis connection with `maxRetriesPerRequest: null` (role 'worker'); not closed here. */
  connection: RedisClient;
  /** Keep-alive pool to the origin (createOriginDispatcher); not closed here. */
  dispatcher: Dispatcher;
  store: FlagStore;
  logger: Logger;
  /** BullMQ key prefix. Default QUEUE_PREFIX; must match the producer's. */
  prefix?: string;
  /** Least time between two progress reports of a chunk. Default 100 ms. */
  progressIntervalMs?: number;
  /** Lock and stall settings for both Workers, over the configuration's (tests shorten them). */
  workerSettings?: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>;
  /** Measures the jobs (createWorkerMetrics). Default: not measured. */
  metrics?: WorkerMetrics;
  /** BullMQ telemetry when tracing is on (createQueueTelemetry): job, flag and save spans. */
  telemetry?: Telemetry;
}

export interface FlagWorkers {
  /** Start taking jobs from both queues. */
  run(): void;
  /**
   * Stop taking jobs; let running ones finish for the shutdown timeout, then hand them
   * back to the queue (flags already decided are kept in the job's progress). Closes
   * both workers even when one fails; a second call returns the first call's promise.
   */
  close(): Promise<void>;
  /** Resolves when both workers are connected and cancels are heard (tests wait for it before adding jobs). */
  waitUntilReady(): Promise<void>;
}

/**
 * Times a job may be taken back from a worker that died (its lock expired) before it
 * fails for good. BullMQ's default, 1, failed a chunk whose worker was killed twice,
 * its undecided flags ERROR (tests/fault-worker-kill.test.ts); a chunk resumes from
 * its progress, so running it again costs only the flags in flight.
 */
export const MAX_STALLED_COUNT = 10;

export function createFlagWorkers(options: FlagWorkersOptions): FlagWorkers {
  const { config, connection, logger } = options;
  const prefix = options.prefix ?? QUEUE_PREFIX;
  const common = {
    connection,
    prefix,
    autorun: false,
    concurrency: config.workerConcurrency,
    maxStalledCount: MAX_STALLED_COUNT,
    lockDuration: config.jobLock.lockDurationMs,
    stalledInterval: config.jobLock.stalledIntervalMs,
    ...options.workerSettings,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
  };
  const traced = options.telemetry !== undefined;
  const flagDeps: DownloadFlagDeps = {
    dispatcher: options.dispatcher,
    originUrl: config.originUrl,
    store: traced ? traceStoreSaves(options.store) : options.store,
    attempts: config.flagAttempts,
    retryBaseDelayMs: config.retryBaseDelayMs,
    // Deadline, redirect hosts, shared rate limit and validators (Redis, under the prefix).
    ...createDownloadPolicies({
      deadlineMs: config.flagDeadlineMs,
      allowedHosts: config.originAllowedHosts,
      rateLimitPerSecond: config.originRateLimit,
      redis: connection,
      keyPrefix: prefix,
      onValidatorsError: (err) => logger.warn({ err }, 'flag validators: Redis call failed (full download)'),
    }),
  };
  const downloadOne = (code: string, signal: AbortSignal) => downloadFlag(code, flagDeps, signal);
  const indexWriter = createDownloadIndexWriter({
    index: downloadIndex(connection, prefix),
    logger: logger.child({ component: 'download-index' }),
  });
  const chunkDeps: ChunkRunDeps = {
    flagConcurrency: config.flagConcurrency,
    downloadOne: traced ? traceFlagDownloads(downloadOne) : downloadOne,
    progressIntervalMs: options.progressIntervalMs,
    downloadIndex: indexWriter,
  };
  // Failed chunks are read back from here to learn their codes and saved flags.
  const flagsQueue = new Queue<ChunkJobData, ChunkResult>(QueueNames.flags, { connection, prefix });
  // Unheard, BullMQ prints each connection error (a Sentinel failover makes several);
  // main.ts logs the connection's errors already.
  flagsQueue.on('error', (err) => logger.debug({ err: err.message }, 'flags queue connection error'));
  const cancels = createCancelListener({ connection, prefix, logger: logger.child({ component: 'cancel-listener' }) });
  /** Runs a job tracked under its download, so that a cancel of that download aborts it. */
  const tracked = <T>(
    worker: JobCanceller,
    job: Job,
    downloadId: string | undefined,
    token: string | undefined,
    signal: AbortSignal | undefined,
    handle: (run: JobRun) => Promise<T>,
  ): Promise<T> =>
    downloadId === undefined || job.id === undefined
      ? handle(jobRun(token, signal))
      : cancels.track(downloadId, job.id, worker, (cancellation) => handle(jobRun(token, signal, cancellation)));

  const observe = <D, R>(queue: QueueName, processor: Processor<D, R>) =>
    options.metrics ? options.metrics.observeJobs(queue, processor) : processor;

  const chunkWorker: Worker<ChunkJobData, ChunkResult> = new Worker<ChunkJobData, ChunkResult>(
    QueueNames.flags,
    // Three parameters: bullmq passes an AbortSignal only to processors that take one.
    observe(QueueNames.flags, (job, token, signal) =>
      tracked(chunkWorker, job, downloadIdOfChunkJob(job.id ?? ''), token, signal, (run) =>
        handleChunkJob(job, run, { ...chunkDeps, logger }),
      ),
    ),
    common,
  );
  const downloadWorker: Worker<DownloadJobData, DownloadSummary> = new Worker<DownloadJobData, DownloadSummary>(
    QueueNames.downloads,
    observe(QueueNames.downloads, (job, token, signal) =>
      tracked(downloadWorker, job, job.id, token, signal, (run) =>
        handleDownloadJob(job, run, {
          ...chunkDeps,
          logger,
          prefix,
          readChunkJob: (jobId) => flagsQueue.getJob(jobId),
          downloadIndex: indexWriter,
        }),
      ),
    ),
    common,
  );
  listen(chunkWorker, logger.child({ component: 'chunk-worker' }));
  listen(downloadWorker, logger.child({ component: 'download-worker' }));
  // A download's job that failed for good (BullMQ sets finishedOn only then) ends it in the index.
  downloadWorker.on('failed', (job) => {
    if (job !== undefined && typeof job.finishedOn === 'number') void indexWriter.failed(job);
  });

  let started = false;
  return {
    run() {
      if (started) return;
      started = true;
      for (const worker of [chunkWorker, downloadWorker]) {
        worker.run().catch((err: unknown) => logger.error({ err, queue: worker.name }, 'worker stopped'));
      }
    },
    close: once(async () => {
      const closed = Promise.allSettled([chunkWorker.close(), downloadWorker.close()]);
      const timeoutMs = config.shutdownTimeoutMs;
      if (
        !(await withTimeout(
          closed.then(() => true),
          timeoutMs,
          () => false,
        ))
      ) {
        logger.warn({ timeoutMs }, 'shutdown deadline passed: handing running jobs back');
        chunkWorker.cancelAllJobs(HAND_BACK);
        downloadWorker.cancelAllJobs(HAND_BACK);
      }
      const results = [...(await closed), ...(await Promise.allSettled([flagsQueue.close(), cancels.close()]))];
      const failure = results.find((result) => result.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    }),
    async waitUntilReady() {
      await Promise.all([
        chunkWorker.waitUntilReady(),
        downloadWorker.waitUntilReady(),
        flagsQueue.waitUntilReady(),
        cancels.waitUntilReady(),
      ]);
    },
  };
}

function jobRun(token: string | undefined, signal: AbortSignal | undefined, cancellation?: RunCancellation): JobRun {
  return { token, signal: signal ?? new AbortController().signal, ...(cancellation ? { cancellation } : {}) };
}

function listen(worker: Worker, log: Logger): void {
  // Without an 'error' listener an EventEmitter error would crash the process.
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    const ids = { jobId: job?.id, downloadId: downloadIdOf(job) };
    // A cancelled download's job ends so on purpose: not a failure to warn about.
    if (err.message === DOWNLOAD_CANCELLED_REASON) return log.info(ids, 'job ended: download cancelled');
    log.warn({ err, ...ids, attemptsMade: job?.attemptsMade }, 'job failed');
  });
  worker.on('stalled', (jobId) =>
    log.warn({ jobId, downloadId: downloadIdOfChunkJob(jobId) ?? jobId }, 'job stalled: taken back'),
  );
}

function downloadIdOf(job: Job | undefined): string | undefined {
  const data = job?.data as { downloadId?: unknown } | undefined;
  return typeof data?.downloadId === 'string' ? data.downloadId : job?.id;
}
