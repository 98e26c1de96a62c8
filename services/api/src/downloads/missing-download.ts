// The answer for a download BullMQ does not have: 410 Gone when the index says it
// existed and is past its retention (a tombstone, or a finished record whose jobs
// BullMQ already removed), 404 otherwise.
import type { DownloadState } from '@flagship/common';
import { DownloadGoneError, DownloadNotFoundError, type ApiError } from '../errors.ts';
import type { DownloadIndexPort } from '../queues/download-queues.ts';

const FINISHED: ReadonlySet<DownloadState> = new Set(['completed', 'failed', 'cancelled']);

export async function missingDownloadError(
  downloadId: string,
  index: Pick<DownloadIndexPort, 'read'>,
): Promise<ApiError> {
  const record = await index.read(downloadId);
  const gone = record === 'expired' || (record !== undefined && FINISHED.has(record.state));
  return gone ? new DownloadGoneError(downloadId) : new DownloadNotFoundError(downloadId);
}
