// BullMQ wiring only: two Workers that take job data out of Redis, check it against its
// contract and call the logic. The chunk worker (queue `flags`) downloads a chunk's
// flags; the download worker (queue `downloads`) runs once every chunk of a download is
// done and returns the download's summary. Nothing is started here: `run()` starts,
// `close()` stops taking jobs, lets running ones finish within the grace period, then
// hands the rest back to the queue.
import {
  Contracts,
  QUEUE_PREFIX,
  QueueNames,
  once,
  type ChunkJobData,
  type ChunkProgress,
  type ChunkResult,
  type DownloadJobData,
  type DownloadSummary,
  type FlagOutcome,
  type FlagStore,
  type Logger,
} from '@flagship/common';
import { Job, Queue, UnrecoverableError, WaitingError, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { WorkerConfig } from './config.ts';
import { finishDownload, type FailedChunk } from './downloads/finish-download.ts';
import { downloadFlag, type DownloadFlagDeps } from './flags/download-flag.ts';
import { processChunk } from './flags/process-chunk.ts';

export interface FlagWorkersOptions {
  /** Settings read from the environment (loadConfig). */
  config: Pick<
    WorkerConfig,
    | 'ORIGIN_URL'
    | 'WORKER_CONCURRENCY'
    | 'FLAG_CONCURRENCY'
    | 'FLAG_ATTEMPTS'
    | 'RETRY_BASE_DELAY_MS'
    | 'SHUTDOWN_TIMEOUT_MS'
  >;
  /** Shared ioredis connection with `maxRetriesPerRequest: null` (role 'worker'); not closed here. */
  connection: Redis;
  /** Keep-alive pool to the origin (createOriginDispatcher); not closed here. */
  dispatcher: Dispatcher;
  store: FlagStore;
  logger: Logger;
  /** BullMQ key prefix. Default QUEUE_PREFIX; must match the producer's. */
  prefix?: string;
  /** Least time between two progress reports of a chunk. Default 100 ms. */
  progressIntervalMs?: number;
  /** Lock and stall settings for both Workers (tests shorten them). Default bullmq's. */
  workerSettings?: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>;
}

export interface FlagWorkers {
  /** Start taking jobs from both queues. */
  run(): void;
  /**
   * Stop taking jobs; let running ones finish for SHUTDOWN_TIMEOUT_MS, then hand them
   * back to the queue (flags already decided are kept in the job's progress). Closes
   * both workers even when one fails; a second call returns the first call's promise.
   */
  close(): Promise<void>;
  /** Resolves when both workers are connected (tests wait for it before adding jobs). */
  waitUntilReady(): Promise<void>;
}

/** The abort reason of a shutdown hand-back; any other abort fails the job as usual. */
const HAND_BACK = 'worker shutting down: job handed back to the queue';

export function createFlagWorkers(options: FlagWorkersOptions): FlagWorkers {
  const { config, connection, logger } = options;
  const prefix = options.prefix ?? QUEUE_PREFIX;
  const common = { connection, prefix, autorun: false, ...options.workerSettings };
  const flagDeps: DownloadFlagDeps = {
    dispatcher: options.dispatcher,
    originUrl: config.ORIGIN_URL,
    store: options.store,
    attempts: config.FLAG_ATTEMPTS,
    retryBaseDelayMs: config.RETRY_BASE_DELAY_MS,
  };
  // Failed chunks are read back from here to learn their codes and saved flags.
  const flagsQueue = new Queue<ChunkJobData, ChunkResult>(QueueNames.flags, { connection, prefix });

  const chunkWorker = new Worker<ChunkJobData, ChunkResult>(
    QueueNames.flags,
    // Three parameters: bullmq passes an AbortSignal only to processors that take one.
    (job, token, signal) => runChunkJob(job, token, signal ?? new AbortController().signal),
    { ...common, concurrency: config.WORKER_CONCURRENCY },
  );
  const downloadWorker = new Worker<DownloadJobData, DownloadSummary>(QueueNames.downloads, runDownloadJob, {
    ...common,
    concurrency: config.WORKER_CONCURRENCY,
  });
  listen(chunkWorker, logger.child({ component: 'chunk-worker' }));
  listen(downloadWorker, logger.child({ component: 'download-worker' }));

  async function runChunkJob(
    job: Job<ChunkJobData, ChunkResult>,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<ChunkResult> {
    const data = parseOrGiveUp(Contracts.chunkJobData, job.data);
    const log = logger.child({ jobId: job.id, downloadId: data.downloadId, chunk: data.chunk });
    const previous = previousOutcomes(job.progress, data);
    if (previous.length > 0) log.info({ decided: previous.length }, 'resuming chunk');
    try {
      const outcomes = await processChunk({
        codes: data.codes,
        concurrency: config.FLAG_CONCURRENCY,
        previous,
        downloadOne: (code, flagSignal) => downloadFlag(code, flagDeps, flagSignal),
        onProgress: (decided) => job.updateProgress(chunkProgress(data, decided)),
        onProgressError: (err) => log.warn({ err }, 'progress report failed'),
        progressIntervalMs: options.progressIntervalMs,
        signal,
      });
      log.debug({ flags: outcomes.length }, 'chunk done');
      return { downloadId: data.downloadId, chunk: data.chunk, outcomes };
    } catch (error) {
      if (signal.aborted && signal.reason === HAND_BACK) {
        // Back to `wait` without spending an attempt; the next worker skips what is done.
        await job.moveToWait(token);
        log.info('chunk handed back to the queue');
        throw new WaitingError();
      }
      throw error;
    }
  }

  async function runDownloadJob(job: Job<DownloadJobData, DownloadSummary>): Promise<DownloadSummary> {
    const data = parseOrGiveUp(Contracts.downloadJobData, job.data);
    const downloadId = job.id ?? '';
    const log = logger.child({ jobId: job.id, downloadId });
    const [childrenValues, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
    const failedChunks = await Promise.all(
      Object.entries(failures).map(([key, reason]) => readFailedChunk(key, reason)),
    );
    const summary = finishDownload({
      downloadId,
      codes: data.codes,
      childrenValues,
      failedChunks,
      elapsedSeconds: (Date.now() - job.timestamp) / 1000,
      onInvalidResult: (key, reason) => log.warn({ key, reason }, 'ignored an invalid chunk result'),
    });
    log.info({ saved: summary.saved, notFound: summary.notFound, failed: summary.failed }, summary.message);
    return summary;
  }

  async function readFailedChunk(key: string, reason: string): Promise<FailedChunk> {
    const keyPrefix = `${prefix}:${QueueNames.flags}:`;
    if (!key.startsWith(keyPrefix)) return { key, reason };
    const job = await Job.fromId(flagsQueue, key.slice(keyPrefix.length));
    if (job === undefined || !Contracts.chunkJobData.check(job.data)) return { key, reason };
    return { key, reason, codes: job.data.codes, decided: previousOutcomes(job.progress, job.data) };
  }

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
      if (!(await settlesWithin(closed, config.SHUTDOWN_TIMEOUT_MS))) {
        logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed: handing running jobs back');
        chunkWorker.cancelAllJobs(HAND_BACK);
        downloadWorker.cancelAllJobs(HAND_BACK);
      }
      const results = [...(await closed), ...(await Promise.allSettled([flagsQueue.close()]))];
      const failure = results.find((result) => result.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    }),
    async waitUntilReady() {
      await Promise.all([chunkWorker.waitUntilReady(), downloadWorker.waitUntilReady(), flagsQueue.waitUntilReady()]);
    },
  };
}

/** Bad job data will be bad on every attempt: fail it for good. */
function parseOrGiveUp<T>(checker: { parse(value: unknown): T }, value: unknown): T {
  try {
    return checker.parse(value);
  } catch (error) {
    throw new UnrecoverableError((error as Error).message);
  }
}

/** What an earlier attempt of this chunk reported, if its progress is this chunk's. */
function previousOutcomes(progress: unknown, data: ChunkJobData): FlagOutcome[] {
  if (!Contracts.chunkProgress.check(progress)) return [];
  if (progress.downloadId !== data.downloadId || progress.chunk !== data.chunk) return [];
  return progress.outcomes;
}

function chunkProgress(data: ChunkJobData, outcomes: FlagOutcome[]): ChunkProgress {
  return { downloadId: data.downloadId, chunk: data.chunk, total: data.codes.length, outcomes };
}

function listen(worker: Worker, log: Logger): void {
  // Without an 'error' listener an EventEmitter error would crash the process.
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) =>
    log.warn({ err, jobId: job?.id, attemptsMade: job?.attemptsMade, downloadId: downloadIdOf(job) }, 'job failed'),
  );
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled: taken back'));
}

function downloadIdOf(job: Job | undefined): string | undefined {
  const data = job?.data as { downloadId?: unknown } | undefined;
  return typeof data?.downloadId === 'string' ? data.downloadId : job?.id;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
