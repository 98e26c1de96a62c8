// BullMQ wiring only: two Workers that take job data out of Redis, check it against its
// contract and call the logic. The chunk worker (queue `flags`) downloads a chunk's
// flags. The download worker (queue `downloads`) takes both shapes of a download: a
// single job (`inline`: a download that fits one chunk) is run there and then, as a
// chunk with its own progress, and returns the summary; a flow's parent runs once
// every chunk is done and merges their results into the summary. Nothing is started
// here: `run()` starts, `close()` stops taking jobs, lets running ones finish within the
// grace period, then hands the rest back to the queue.
import {
  Contracts,
  QUEUE_PREFIX,
  QueueNames,
  once,
  summarize,
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
import { createDownloadPolicies } from './flags/download-policies.ts';
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
    | 'FLAG_DEADLINE_MS'
    | 'ORIGIN_ALLOWED_HOSTS'
    | 'ORIGIN_RATE_LIMIT'
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
    // Deadline, redirect hosts, shared rate limit and validators (Redis, under the prefix).
    ...createDownloadPolicies({
      deadlineMs: config.FLAG_DEADLINE_MS,
      allowedHosts: config.ORIGIN_ALLOWED_HOSTS,
      rateLimitPerSecond: config.ORIGIN_RATE_LIMIT,
      redis: connection,
      keyPrefix: prefix,
      onValidatorsError: (err) => logger.warn({ err }, 'flag validators: Redis call failed (full download)'),
    }),
  };
  // Failed chunks are read back from here to learn their codes and saved flags.
  const flagsQueue = new Queue<ChunkJobData, ChunkResult>(QueueNames.flags, { connection, prefix });

  const chunkWorker = new Worker<ChunkJobData, ChunkResult>(
    QueueNames.flags,
    // Three parameters: bullmq passes an AbortSignal only to processors that take one.
    (job, token, signal) => runChunkJob(job, token, signal ?? new AbortController().signal),
    { ...common, concurrency: config.WORKER_CONCURRENCY },
  );
  const downloadWorker = new Worker<DownloadJobData, DownloadSummary>(
    QueueNames.downloads,
    (job, token, signal) => runDownloadJob(job, token, signal ?? new AbortController().signal),
    { ...common, concurrency: config.WORKER_CONCURRENCY },
  );
  listen(chunkWorker, logger.child({ component: 'chunk-worker' }));
  listen(downloadWorker, logger.child({ component: 'download-worker' }));

  async function runChunkJob(
    job: Job<ChunkJobData, ChunkResult>,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<ChunkResult> {
    const data = parseOrGiveUp(Contracts.chunkJobData, job.data);
    const log = logger.child({ jobId: job.id, downloadId: data.downloadId, chunk: data.chunk });
    const outcomes = await runChunk(job, data, { token, signal, log });
    log.debug({ flags: outcomes.length }, 'chunk done');
    return { downloadId: data.downloadId, chunk: data.chunk, outcomes };
  }

  /**
   * The flags of one chunk, whichever job carries them (a chunk job, or a single-job
   * download as its chunk 0): resumes from the job's progress, reports progress on the
   * job, and on a shutdown past the deadline hands the job back to `wait`.
   */
  async function runChunk(
    job: Job,
    data: ChunkJobData,
    run: { token: string | undefined; signal: AbortSignal; log: Logger; onDecided?: (decided: FlagOutcome[]) => void },
  ): Promise<FlagOutcome[]> {
    const previous = previousOutcomes(job.progress, data);
    if (previous.length > 0) run.log.info({ decided: previous.length }, 'resuming chunk');
    try {
      return await processChunk({
        codes: data.codes,
        concurrency: config.FLAG_CONCURRENCY,
        previous,
        downloadOne: (code, flagSignal) => downloadFlag(code, flagDeps, flagSignal),
        onProgress: (decided) => {
          run.onDecided?.(decided);
          return job.updateProgress(chunkProgress(data, decided));
        },
        onProgressError: (err) => run.log.warn({ err }, 'progress report failed'),
        progressIntervalMs: options.progressIntervalMs,
        signal: run.signal,
      });
    } catch (error) {
      if (run.signal.aborted && run.signal.reason === HAND_BACK) {
        // Back to `wait` without spending an attempt; the next worker skips what is done.
        await job.moveToWait(run.token);
        run.log.info('chunk handed back to the queue');
        throw new WaitingError();
      }
      throw error;
    }
  }

  async function runDownloadJob(
    job: Job<DownloadJobData, DownloadSummary>,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<DownloadSummary> {
    const data = parseOrGiveUp(Contracts.downloadJobData, job.data);
    const downloadId = job.id ?? '';
    const log = logger.child({ jobId: job.id, downloadId });
    if (data.inline === true) return runSingleJobDownload(job, data, { token, signal, log });
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

  /**
   * A download that is one job: its codes are its chunk 0. On its last attempt a
   * failure still completes the download, its undecided flags ERROR with the reason,
   * as a flow's parent reports a chunk that failed for good.
   */
  async function runSingleJobDownload(
    job: Job<DownloadJobData, DownloadSummary>,
    data: DownloadJobData,
    run: { token: string | undefined; signal: AbortSignal; log: Logger },
  ): Promise<DownloadSummary> {
    const downloadId = job.id ?? '';
    const chunk: ChunkJobData = { downloadId, chunk: 0, codes: data.codes };
    let decided = previousOutcomes(job.progress, chunk);
    const elapsedSeconds = () => (Date.now() - job.timestamp) / 1000;
    let summary: DownloadSummary;
    try {
      const outcomes = await runChunk(job, chunk, { ...run, onDecided: (outcomes) => (decided = outcomes) });
      summary = summarize(data.codes, outcomes, elapsedSeconds());
    } catch (error) {
      if (error instanceof WaitingError || error instanceof UnrecoverableError || !isLastAttempt(job)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      run.log.warn({ err: error, attemptsMade: job.attemptsMade }, 'download failed on its last attempt');
      summary = finishDownload({
        downloadId,
        codes: data.codes,
        childrenValues: {},
        failedChunks: [{ key: downloadId, reason, codes: data.codes, decided }],
        elapsedSeconds: elapsedSeconds(),
      });
    }
    run.log.info({ saved: summary.saved, notFound: summary.notFound, failed: summary.failed }, summary.message);
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

/** This attempt is the job's last: a failure now fails it for good. */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
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
