// DELETE /v1/downloads/:id: cancel a download across every worker. The queues mark it
// cancelled unless its job has finished (one Lua script: a download that completed or
// failed first stays as it is, 409), tell its SSE followers and every worker, and remove
// its chunks that no worker holds; running chunks stop within moments, keeping the flags
// they saved. The answer is the status right after: `cancelled`, with the counts so far
// (a flag being saved as the cancel came may still be added to them). Cancelling again
// is harmless and answers the same way. The downloads' index records the cancel.
import { DEFAULT_RETENTION, type DownloadStatus, type Retention } from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import { ApiError } from '../errors.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import { toDownloadStatus } from './download-status.ts';
import { missingDownloadError } from './missing-download.ts';

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

export interface CancelDownloadDeps {
  queues: Pick<DownloadQueues, 'cancelDownload' | 'readSnapshot' | 'index'>;
  /** The retention the index prunes by when it records the cancel. Default DEFAULT_RETENTION. */
  retention?: Retention;
  now?: () => number;
  logger?: Pick<Logger, 'warn'>;
}

export async function cancelDownload(downloadId: string, deps: CancelDownloadDeps): Promise<DownloadStatus> {
  const now = deps.now ?? Date.now;
  const mark = await deps.queues.cancelDownload(downloadId, now());
  if (mark.outcome === 'missing') throw await missingDownloadError(downloadId, deps.queues.index);
  const snapshot = await deps.queues.readSnapshot(downloadId);
  if (snapshot === undefined) throw await missingDownloadError(downloadId, deps.queues.index); // gone meanwhile (retention)
  const status = toDownloadStatus(snapshot, now());
  // `finished` with a cancelled status: cancelled long ago, its mark expired since.
  if (status.state !== 'cancelled') throw new DownloadFinishedError(downloadId, status.state);
  // Only the request that cancelled records it (not a repeat). Best effort, like the
  // workers' index writes: the mark in Redis is what makes the download cancelled.
  if (mark.outcome === 'cancelled') await recordCancel(downloadId, status, mark.at, deps);
  return status;
}

/** Moves the download to `cancelled` in the downloads' index, with the counts of its status. */
async function recordCancel(downloadId: string, status: DownloadStatus, at: number, deps: CancelDownloadDeps) {
  const { done, saved, notFound, failed } = status;
  try {
    await deps.queues.index.finished(downloadId, {
      state: 'cancelled',
      counts: { done, saved, notFound, failed },
      finishedAt: at,
      retention: deps.retention ?? DEFAULT_RETENTION,
    });
  } catch (error) {
    (deps.logger ?? silentLogger()).warn({ err: error, downloadId }, 'recording the cancel in the index failed');
  }
}
