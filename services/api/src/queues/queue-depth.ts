// How many jobs each queue holds in each state, for the metrics scrape. One
// `Queue.getJobCounts` per queue: a Lua script of a few LLEN/ZCARD, O(1) whatever the
// queues hold, never a scan. The answer is kept for `cacheMs` so frequent scrapes (or
// several Prometheus servers) cost Redis at most one read per interval, and a read is
// bounded by `timeoutMs`: with Redis away the scrape gets an error at once (the
// producer connection does not queue commands) and reports without the depths.
import { QUEUE_PREFIX, QueueNames, type QueueName, type RedisClient } from '@flagship/common';
import { closeAll, once, withTimeout } from '@flagship/runtime';
import { Queue, type JobState } from 'bullmq';
import { QueueUnavailableError } from '../errors.ts';

/** Every state a Flagship job can be in. */
export const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'waiting-children',
  'completed',
  'failed',
] as const satisfies readonly JobState[];
export type QueueState = (typeof QUEUE_STATES)[number];

export type QueueDepth = Record<QueueName, Record<QueueState, number>>;

export interface QueueDepthReader {
  /** Job counts of both queues; rejects (QueueUnavailableError) when Redis does not answer in time. */
  read(): Promise<QueueDepth>;
  /** Closes the Queue objects (not the connection). Safe twice. */
  close(): Promise<void>;
}

export interface QueueDepthReaderOptions {
  /** The producer connection (fails fast while Redis is away); not closed here. */
  connection: RedisClient;
  prefix?: string;
  /** Longest wait for Redis. Default 1000 ms. */
  timeoutMs?: number;
  /** How long one answer (or failure) is reused. Default 1000 ms. */
  cacheMs?: number;
  now?: () => number;
}

export function createQueueDepthReader(options: QueueDepthReaderOptions): QueueDepthReader {
  const { connection } = options;
  const prefix = options.prefix ?? QUEUE_PREFIX;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const cacheMs = options.cacheMs ?? 1_000;
  const now = options.now ?? Date.now;
  const queues = Object.values(QueueNames).map((name) => new Queue(name, { connection, prefix }));
  for (const queue of queues) queue.on('error', () => {}); // the connection's owner logs its errors
  let last: { at: number; depth: Promise<QueueDepth> } | undefined;

  async function readNow(): Promise<QueueDepth> {
    if (connection.status !== 'ready') throw new QueueUnavailableError(`Redis is not connected (${connection.status})`);
    const counts = await withTimeout(
      Promise.all(queues.map((queue) => queue.getJobCounts(...QUEUE_STATES))),
      timeoutMs,
      () => {
        throw new QueueUnavailableError(`Redis did not answer the queue depths within ${timeoutMs} ms`);
      },
    );
    return Object.fromEntries(
      queues.map((queue, index) => [
        queue.name,
        Object.fromEntries(QUEUE_STATES.map((state) => [state, counts[index]?.[state] ?? 0])),
      ]),
    ) as QueueDepth;
  }

  return {
    read() {
      if (last === undefined || now() - last.at >= cacheMs) {
        const depth = readNow();
        depth.catch(() => {}); // the caller of this read reports it; later callers get it from the cache
        last = { at: now(), depth };
      }
      return last.depth;
    },
    close: once(() =>
      closeAll(
        queues.map((queue) => ({ name: queue.name, close: () => queue.close() })),
        { timeoutMs },
      ),
    ),
  };
}
