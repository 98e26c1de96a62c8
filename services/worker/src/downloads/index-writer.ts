// The worker's writes to the downloads' index (@flagship/common download-index.ts), the
// list behind GET /v1/downloads: a download is running once one of its chunks starts,
// its counts follow the chunks' progress reports, and it ends completed (the summary's
// counts), failed for good, or cancelled. Each finish prunes the index by the retention the
// download's job was added with (its removeOnComplete), so the index keeps what BullMQ
// keeps, whatever this process's settings. Best effort: BullMQ stays the truth of a
// download's jobs, so a write that fails is logged and never fails a job.
import {
  Contracts,
  DEFAULT_RETENTION,
  DOWNLOAD_CANCELLED_REASON,
  countOutcomes,
  retentionOfJob,
  type DownloadCounts,
  type DownloadIndex,
  type DownloadSummary,
  type FinishedDownload,
  type FlagOutcome,
} from '@flagship/common';
import type { Logger } from '@flagship/runtime';
import type { Job } from 'bullmq';

export interface DownloadIndexWriter {
  /**
   * A chunk of the download starts (a single-job download is its own chunk 0), after
   * earlier attempts decided `previous`. Returns what to call with the outcomes decided
   * so far at each of its progress reports.
   */
  chunkStarted(downloadId: string, previous: readonly FlagOutcome[]): (decided: readonly FlagOutcome[]) => void;
  /** The download's job returns this summary. */
  completed(job: Job, summary: DownloadSummary): Promise<void>;
  /** The download's job failed for good (BullMQ will not retry it), or was ended by a cancel. */
  failed(job: Job): Promise<void>;
}

export interface DownloadIndexWriterOptions {
  /** downloadIndex(connection, prefix) of @flagship/common. */
  index: Pick<DownloadIndex, 'advanced' | 'finished'>;
  logger: Logger;
  now?: () => number;
}

function countsOf(outcomes: readonly FlagOutcome[]): DownloadCounts {
  return { done: outcomes.length, ...countOutcomes(outcomes) };
}

function minus(a: DownloadCounts, b: DownloadCounts): DownloadCounts {
  return {
    done: a.done - b.done,
    saved: a.saved - b.saved,
    notFound: a.notFound - b.notFound,
    failed: a.failed - b.failed,
  };
}

export function createDownloadIndexWriter(options: DownloadIndexWriterOptions): DownloadIndexWriter {
  const { index } = options;
  const now = options.now ?? Date.now;
  const log = options.logger;

  function write(what: string, downloadId: string, operation: Promise<unknown>): Promise<void> {
    return operation.then(
      () => undefined,
      (err: unknown) => log.warn({ err, downloadId }, `download index: ${what} not recorded`),
    );
  }

  /** The download's end, and what its job knows of it, should the submit's record be missing. */
  function finish(job: Job, end: Pick<FinishedDownload, 'state' | 'counts'>): Promise<void> {
    const id = job.id ?? '';
    const data = Contracts.downloadJobData.check(job.data) ? job.data : undefined;
    return write(
      end.state,
      id,
      index.finished(id, {
        ...end,
        finishedAt: now(),
        retention: retentionOfJob(job.opts) ?? DEFAULT_RETENTION,
        ...(data === undefined
          ? {}
          : {
              known: {
                id,
                total: data.codes.length,
                createdAt: job.timestamp,
                ...(data.retryOf ? { retryOf: data.retryOf } : {}),
              },
            }),
      }),
    );
  }

  return {
    chunkStarted(downloadId, previous) {
      let reported = countsOf(previous);
      void write('start', downloadId, index.advanced(downloadId));
      return (decided) => {
        const counts = countsOf(decided);
        const delta = minus(counts, reported);
        reported = counts;
        if (Object.values(delta).some((value) => value !== 0)) {
          void write('progress', downloadId, index.advanced(downloadId, delta));
        }
      };
    },
    completed: (job, summary) =>
      finish(job, {
        state: 'completed',
        counts: { done: summary.outcomes.length, ...countOutcomes(summary.outcomes) },
      }),
    // The API records a cancel itself; this covers a cancel whose own write failed.
    failed: (job) => finish(job, { state: job.failedReason === DOWNLOAD_CANCELLED_REASON ? 'cancelled' : 'failed' }),
  };
}
