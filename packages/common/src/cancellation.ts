// Cancelling a download (DELETE /v1/downloads/:id): the Redis names the API and the
// workers agree on. The API marks a download cancelled in one Lua script (a hash at
// cancelledKey, only while the download's job is not finished), appends a `cancelled`
// entry to the `downloads` event stream (SSE followers end on it) and PUBLISHes the id on
// cancelChannel. Every worker process subscribes to that channel once and aborts the
// jobs of that download it runs; a worker that missed the message (its subscriber was
// reconnecting) still finds the mark when a job starts and at each progress report.
// A cancelled download's own job (a flow's parent, or the single job) ends failed for
// good with DOWNLOAD_CANCELLED_REASON, so it is never run again and its record says why.
/** The failedReason of a cancelled download's job, and the worker's abort reason. */
export const DOWNLOAD_CANCELLED_REASON = 'download cancelled';

/** The name of the entry the API appends to the `downloads` event stream on a cancel. */
export const CANCELLED_EVENT = 'cancelled';

/** How long the mark is kept: as long as a finished download is (flow.ts), and an hour more. */
export const CANCELLED_MARK_TTL_MS = 25 * 3600 * 1000;

/** The hash that marks a download cancelled: field `at`, ms since the epoch. */
export function cancelledKey(prefix: string, downloadId: string): string {
  return `${prefix}:cancelled:${downloadId}`;
}

/** The pub/sub channel every worker process listens on; a message is one download id. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}
