// How a cancel reaches the worker that runs a download's jobs, whichever worker that is:
// each worker process keeps one subscriber connection on the cancel channel
// (@flagship/common's cancelChannel) and a table of the jobs it runs, by download. A
// message (a download id) aborts every job of that download running here, through
// BullMQ's Worker.cancelJob with CANCELLED as the reason, which aborts the processor's
// signal down to the origin requests. A message that arrives while the subscriber is
// reconnecting is lost; the jobs find the mark in Redis (isCancelled) when they start
// and at each progress report instead.
import { cancelChannel, cancelledKey, type RedisClient } from '@flagship/common';
import { duplicateRedisClient } from '@flagship/common/redis';
import type { Logger } from '@flagship/runtime';
import { CANCELLED, type RunCancellation } from './handlers/job-run.ts';

/** What can cancel a job it runs: BullMQ's Worker. */
export interface JobCanceller {
  cancelJob(jobId: string, reason?: string): boolean;
}

export interface CancelListenerOptions {
  /** The worker's connection: duplicated once for the subscriber, and used for the mark checks. */
  connection: RedisClient;
  prefix: string;
  logger: Logger;
}

export interface CancelListener {
  /**
   * Runs `work` as the job `jobId` of download `downloadId` on `worker`: a cancel
   * message for that download aborts it while it runs. `work` gets the job's
   * RunCancellation, the backstop that reads the mark.
   */
  track<T>(
    downloadId: string,
    jobId: string,
    worker: JobCanceller,
    work: (cancellation: RunCancellation) => Promise<T>,
  ): Promise<T>;
  /** Resolves once the subscription is in place (a cancel published from then on is heard). */
  waitUntilReady(): Promise<void>;
  /** Jobs running here right now, for tests. */
  readonly running: number;
  /** Unsubscribe and close the subscriber connection. Safe twice. */
  close(): Promise<void>;
}

interface RunningJob {
  jobId: string;
  worker: JobCanceller;
}

export function createCancelListener(options: CancelListenerOptions): CancelListener {
  const { connection, prefix, logger } = options;
  const channel = cancelChannel(prefix);
  const byDownload = new Map<string, Set<RunningJob>>();
  let running = 0;

  const subscriber = duplicateRedisClient(connection, 'flagship-worker-cancel');
  subscriber.on('error', (err: Error) => logger.warn({ err: err.message }, 'cancel subscriber connection error'));
  subscriber.on('message', (from: string, downloadId: string) => {
    if (from !== channel) return;
    const jobs = byDownload.get(downloadId);
    if (jobs === undefined) return;
    for (const { jobId, worker } of jobs) {
      if (worker.cancelJob(jobId, CANCELLED)) logger.info({ jobId, downloadId }, 'cancelling job: download cancelled');
    }
  });
  // ioredis subscribes again by itself after a reconnect (autoResubscribe).
  const subscribed = subscriber.subscribe(channel).then(() => undefined);
  subscribed.catch((err: unknown) => logger.warn({ err }, 'subscribing to the cancel channel failed'));

  const isMarked = async (downloadId: string) => (await connection.exists(cancelledKey(prefix, downloadId))) === 1;

  let closing: Promise<void> | undefined;
  return {
    async track(downloadId, jobId, worker, work) {
      const entry: RunningJob = { jobId, worker };
      let jobs = byDownload.get(downloadId);
      if (jobs === undefined) byDownload.set(downloadId, (jobs = new Set()));
      jobs.add(entry);
      running++;
      try {
        return await work({
          isCancelled: () => isMarked(downloadId),
          cancel: () => void worker.cancelJob(jobId, CANCELLED),
        });
      } finally {
        running--;
        jobs.delete(entry);
        if (jobs.size === 0 && byDownload.get(downloadId) === jobs) byDownload.delete(downloadId);
      }
    },
    waitUntilReady: () => subscribed,
    get running() {
      return running;
    },
    close() {
      closing ??= (async () => {
        await subscribed.catch(() => undefined);
        await subscriber.quit().catch(() => subscriber.disconnect());
      })();
      return closing;
    },
  };
}
