// Cancelling a download in Redis, for the BullMQ adapter. One Lua script decides and
// announces, atomically: a download whose job is already completed or failed is left
// alone (`finished`, the API answers 409); otherwise the mark (cancelledKey: a hash
// with `at`) is set, a `cancelled` entry goes to the `downloads` event stream (the SSE
// followers end on it, and a reconnecting follower finds it when it replays) and the id
// is PUBLISHed on the cancel channel, where every worker process listens. A second
// cancel finds the mark and changes nothing (`already`). Then the download's chunks
// that no worker holds are removed (BullMQ's removeUnprocessedChildren skips locked
// ones); a worker that takes one in between finds the mark before its first flag.
import {
  CANCELLED_EVENT,
  CANCELLED_MARK_TTL_MS,
  DownloadShape,
  QueueNames,
  cancelChannel,
  cancelledKey,
  jobKey,
  shapeOfDownloadJob,
  type RedisClient,
} from '@flagship/common';
import type { Queue } from 'bullmq';
import type { CancelMark } from './download-queues.ts';

/**
 * KEYS: the download's job, the queue's completed and failed sets, the mark, the
 * queue's event stream and meta. ARGV: the download id, the time (ms), the mark's TTL
 * (ms), the channel. Returns {outcome, at}.
 */
const CANCEL_SCRIPT = `
local at = redis.call('HGET', KEYS[4], 'at')
if at then return {'already', at} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', ''} end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) or redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return {'finished', ''}
end
redis.call('HSET', KEYS[4], 'at', ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
local maxEvents = redis.call('HGET', KEYS[6], 'opts.maxLenEvents') or 10000
redis.call('XADD', KEYS[5], 'MAXLEN', '~', maxEvents, '*', 'event', '${CANCELLED_EVENT}', 'jobId', ARGV[1], 'at', ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return {'cancelled', ARGV[2]}
`;

export interface DownloadCancellationSources {
  connection: RedisClient;
  prefix: string;
  downloads: Pick<Queue, 'getJob'>;
}

/** Marks the download cancelled (or finds it finished, missing, or cancelled before), then removes its queued chunks. */
export async function cancelInRedis(
  sources: DownloadCancellationSources,
  downloadId: string,
  atMs: number,
): Promise<CancelMark> {
  const { connection, prefix } = sources;
  const queue = jobKey(prefix, QueueNames.downloads, '');
  const keys = [
    jobKey(prefix, QueueNames.downloads, downloadId),
    `${queue}completed`,
    `${queue}failed`,
    cancelledKey(prefix, downloadId),
    `${queue}events`,
    `${queue}meta`,
  ];
  const args = [downloadId, String(Math.round(atMs)), String(CANCELLED_MARK_TTL_MS), cancelChannel(prefix)];
  const [outcome, at] = (await connection.eval(CANCEL_SCRIPT, keys.length, ...keys, ...args)) as [
    CancelMark['outcome'],
    string,
  ];
  // Again on a repeated cancel: the first one's removal may have been cut short.
  if (outcome === 'cancelled' || outcome === 'already') await removeQueuedChunks(sources, downloadId);
  return outcome === 'cancelled' || outcome === 'already' ? { outcome, at: Number(at) } : { outcome };
}

/**
 * A flow's chunks that no worker holds (waiting, delayed, prioritized) go; running ones
 * stop on the cancel message. A single-job download stays: it is the download's record,
 * and the worker that takes it fails it at once, before any flag.
 */
async function removeQueuedChunks(sources: DownloadCancellationSources, downloadId: string): Promise<void> {
  const job = await sources.downloads.getJob(downloadId);
  if (job === undefined || job === null || shapeOfDownloadJob(job.data) === DownloadShape.single) return;
  await job.removeUnprocessedChildren();
}

/** When the download was cancelled (ms since the epoch), or undefined. */
export async function readCancelledAt(
  connection: RedisClient,
  prefix: string,
  downloadId: string,
): Promise<number | undefined> {
  const at = await connection.hget(cancelledKey(prefix, downloadId), 'at');
  return at === null ? undefined : Number(at);
}
