// DELETE /v1/downloads/:id: cancel a download across every worker. The queues mark it
// cancelled unless its job has finished (one Lua script: a download that completed or
// failed first stays as it is, 409), tell its SSE followers and every worker, and remove
// its chunks that no worker holds; running chunks stop within moments, keeping the flags
// they saved. The answer is the status right after: `cancelled`, with the counts so far
// (a flag being saved as the cancel came may still be added to them). Cancelling again
// is harmless and answers the same way.
import type { DownloadStatus, OutcomeCounts } from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import { ApiError, DownloadNotFoundError } from '../errors.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import { toDownloadStatus } from './download-status.ts';

/** Cancelling a download that completed or failed before. */
export class DownloadFinishedError extends ApiError {
  constructor(downloadId: string, state: string) {
    super(
      409,
      'FLAGSHIP_DOWNLOAD_FINISHED',
      'Download already finished',
      `download ${downloadId} is ${state}: there is nothing left to cancel`,
    );
    this.name = 'DownloadFinishedError';
  }
}

/** A cancelled download's counts, as its status gave them when it was cancelled. */
export interface CancelledCounts extends OutcomeCounts {
  total: number;
  done: number;
  /** When it was cancelled, ISO 8601. */
  cancelledAt: string;
}

/**
 * Told once per download, by the request that cancelled it (not by a repeat), after
 * the mark is set: the hook for the per-download index. A failure is logged; the
 * download stays cancelled.
 */
export type OnDownloadCancelled = (downloadId: string, counts: CancelledCounts) => Promise<void> | void;

export interface CancelDownloadDeps {
  queues: Pick<DownloadQueues, 'cancelDownload' | 'readSnapshot'>;
  now?: () => number;
  onCancelled?: OnDownloadCancelled;
  logger?: Pick<Logger, 'warn'>;
}

export async function cancelDownload(downloadId: string, deps: CancelDownloadDeps): Promise<DownloadStatus> {
  const now = deps.now ?? Date.now;
  const mark = await deps.queues.cancelDownload(downloadId, now());
  if (mark.outcome === 'missing') throw new DownloadNotFoundError(downloadId);
  const snapshot = await deps.queues.readSnapshot(downloadId);
  if (snapshot === undefined) throw new DownloadNotFoundError(downloadId); // gone meanwhile (retention)
  const status = toDownloadStatus(snapshot, now());
  // `finished` with a cancelled status: cancelled long ago, its mark expired since.
  if (status.state !== 'cancelled') throw new DownloadFinishedError(downloadId, status.state);
  if (mark.outcome === 'cancelled' && deps.onCancelled !== undefined) {
    const { total, done, saved, notFound, failed } = status;
    const counts = { total, done, saved, notFound, failed, cancelledAt: new Date(mark.at).toISOString() };
    try {
      await deps.onCancelled(downloadId, counts);
    } catch (error) {
      (deps.logger ?? silentLogger()).warn({ err: error, downloadId }, 'recording the cancel failed');
    }
  }
  return status;
}
