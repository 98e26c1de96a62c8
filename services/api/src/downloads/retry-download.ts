// POST /v1/downloads/:id/retry: a new download of the flags of a finished download that
// ended ERROR (and NOT_FOUND too with ?include=not_found; a download that failed or was
// cancelled as a whole also retries the flags it never decided), linked to it by retryOf
// in its 202 answer, its status and its list item. 409 when the download is not finished
// or has nothing to retry; 404/410 when unknown or past its retention.
import {
  Contracts,
  type DownloadAccepted,
  type DownloadState,
  type FlagOutcome,
  type RetryQuery,
} from '@flagship/common';
import { RetryConflictError } from '../errors.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import { toDownloadStatus } from './download-status.ts';
import { missingDownloadError } from './missing-download.ts';
import { createDownload, type SubmitDownloadDeps } from './submit-download.ts';

const FINISHED: ReadonlySet<DownloadState> = new Set(['completed', 'failed', 'cancelled']);

export interface RetryDownloadDeps extends SubmitDownloadDeps {
  queues: Pick<DownloadQueues, 'addDownload' | 'prefix' | 'index' | 'readSnapshot'>;
}

/** The codes to download again, in the order they were requested: no outcome, ERROR, and NOT_FOUND if asked. */
export function codesToRetry(
  codes: readonly string[],
  outcomes: readonly FlagOutcome[],
  includeNotFound: boolean,
): string[] {
  const statusOf = new Map(outcomes.map((outcome) => [outcome.code, outcome.status]));
  return codes.filter((code) => {
    const status = statusOf.get(code);
    return status === undefined || status === 'ERROR' || (includeNotFound && status === 'NOT_FOUND');
  });
}

export async function retryDownload(
  downloadId: string,
  query: RetryQuery,
  deps: RetryDownloadDeps,
): Promise<DownloadAccepted> {
  const snapshot = await deps.queues.readSnapshot(downloadId);
  if (snapshot === undefined) throw await missingDownloadError(downloadId, deps.queues.index);
  const status = toDownloadStatus(snapshot, (deps.now ?? Date.now)());
  if (!FINISHED.has(status.state)) {
    throw new RetryConflictError(`download ${downloadId} is ${status.state}: only a finished download can be retried`);
  }
  const includeNotFound = query.include === 'not_found';
  const requested = Contracts.downloadJobData.check(snapshot.data)
    ? snapshot.data.codes
    : status.outcomes.map((outcome) => outcome.code);
  const codes = codesToRetry(requested, status.outcomes, includeNotFound);
  if (codes.length === 0) {
    throw new RetryConflictError(
      `download ${downloadId} has no flag that ended ERROR${includeNotFound ? ' or NOT_FOUND' : ''}` +
        (includeNotFound ? '' : ' (add ?include=not_found to retry NOT_FOUND flags too)'),
    );
  }
  return createDownload(codes, deps, { retryOf: downloadId });
}
