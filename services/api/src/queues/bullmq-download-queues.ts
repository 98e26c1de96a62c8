// The DownloadQueues port over BullMQ and Redis. Producer calls go through one shared
// connection that fails fast (enableOfflineQueue off): a request while Redis is away
// gets a QueueUnavailableError (503) at once, or after `timeoutMs` at worst, never a
// hang. A download is added as one job (Queue.add) or as a flow (FlowProducer.add), as
// buildDownloadJobs shaped it. Events come from one QueueEvents per queue, each on its
// own duplicate of the events connection, and only while someone follows
// (on-demand-queue-events.ts). A download's status is read by download-snapshot-reader.ts.
// The downloads' index and the Idempotency-Key claims share the producer connection and
// its deadline (redis-download-index.ts, idempotency-keys.ts).
import { FlowProducer, Queue, type Telemetry } from 'bullmq';
import {
  DownloadShape,
  QUEUE_PREFIX,
  QueueNames,
  type ChunkJobData,
  type ChunkResult,
  type DownloadJobData,
  type DownloadJobs,
  type DownloadSummary,
  type RedisClient,
} from '@flagship/common';
import { closeAll, once, silentLogger, withTimeout, type Logger } from '@flagship/runtime';
import { QueueUnavailableError } from '../errors.ts';
import { cancelInRedis, readCancelledAt } from './download-cancellation.ts';
import { readDownloadEventsAfter } from './download-event-log.ts';
import type { DownloadQueues } from './download-queues.ts';
import { readDownloadSnapshot } from './download-snapshot-reader.ts';
import { createRedisIdempotencyKeys } from './idempotency-keys.ts';
import { createOnDemandQueueEvents } from './on-demand-queue-events.ts';
import { createRedisDownloadIndex } from './redis-download-index.ts';

export interface BullmqDownloadQueuesOptions {
  /** Producer connection (`createRedisClient(endpoint, 'producer')`); shared, not closed here. */
  connection: RedisClient;
  /** Connection for QueueEvents (role 'events'); duplicated per queue while followed, not closed here. */
  eventsConnection: RedisClient;
  /** BullMQ key prefix. Default QUEUE_PREFIX. */
  prefix?: string;
  /** Longest wait for one Redis operation before a 503. Default 1000 ms. */
  timeoutMs?: number;
  logger?: Logger;
  /** BullMQ telemetry (createQueueTelemetry) when tracing is on: each enqueue is a span in the request's trace. */
  telemetry?: Telemetry;
}

const CONNECTION_ERROR =
  /Connection is closed|enableOfflineQueue|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|MaxRetriesPerRequest|Reached the max retries/i;

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return CONNECTION_ERROR.test(`${error.name} ${code} ${error.message}`);
}

export function createBullmqDownloadQueues(options: BullmqDownloadQueuesOptions): DownloadQueues {
  const { connection, eventsConnection } = options;
  const prefix = options.prefix ?? QUEUE_PREFIX;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const logger = options.logger ?? silentLogger();

  const telemetry = options.telemetry ? { telemetry: options.telemetry } : {};
  const flowProducer = new FlowProducer({ connection, prefix, ...telemetry });
  const downloads = new Queue<DownloadJobData, DownloadSummary>(QueueNames.downloads, {
    connection,
    prefix,
    ...telemetry,
  });
  const flags = new Queue<ChunkJobData, ChunkResult>(QueueNames.flags, { connection, prefix, ...telemetry });
  // An EventEmitter 'error' without a listener throws: Redis going away must be logged, not crash us.
  const emitters: Record<string, { on(event: 'error', listener: (error: Error) => void): unknown }> = {
    flowProducer,
    downloads,
    flags,
  };
  for (const [name, emitter] of Object.entries(emitters)) {
    // The connections' own owners (main.ts) log their errors; these repeat them per object.
    emitter.on('error', (error: Error) => logger.debug({ queue: name, err: error.message }, 'queue connection error'));
  }

  /** Run one Redis operation: fail fast when the connection is down, 503 on connection errors. */
  async function guarded<T>(what: string, operation: () => Promise<T>): Promise<T> {
    if (connection.status !== 'ready') throw new QueueUnavailableError(`Redis is not connected (${connection.status})`);
    try {
      return await withTimeout(operation(), timeoutMs, () => {
        throw new QueueUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`);
      });
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw error;
      if (isConnectionError(error) || connection.status !== 'ready') {
        throw new QueueUnavailableError(`Redis failed during ${what}: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  const events = createOnDemandQueueEvents({ connection, eventsConnection, prefix, logger, guarded });

  return {
    prefix,
    events,
    index: createRedisDownloadIndex({ connection, prefix, guarded }),
    idempotencyKeys: createRedisIdempotencyKeys({ connection, prefix, guarded }),
    async addDownload(jobs: DownloadJobs) {
      await guarded('adding a download', async () => {
        if (jobs.shape === DownloadShape.single) await downloads.add(jobs.name, jobs.data, jobs.opts);
        else await flowProducer.add(jobs.flow);
      });
    },
    readSnapshot: (downloadId) =>
      guarded('reading a download', async () => {
        const snapshot = await readDownloadSnapshot({ prefix, downloads, flags }, downloadId);
        if (snapshot === undefined) return undefined;
        // The mark after the job: a job read as finished, with a mark, finished after the cancel.
        const cancelledAt = await readCancelledAt(connection, prefix, downloadId);
        return cancelledAt === undefined ? snapshot : { ...snapshot, cancelledAt };
      }),
    readEventsAfter: (downloadId, positions) =>
      guarded('replaying events', () => readDownloadEventsAfter(connection, prefix, downloadId, positions)),
    cancelDownload: (downloadId, atMs) =>
      guarded('cancelling a download', () => cancelInRedis({ connection, prefix, downloads }, downloadId, atMs)),
    async ping() {
      await guarded('PING', () => connection.ping());
    },
    // All at once, each under the deadline: a QueueEvents whose connection never came up
    // waits for it forever, and must not hold the others (or the shutdown) back.
    close: once(async () => {
      const closers = { events, flowProducer, downloads, flags };
      await Promise.all(
        Object.entries(closers).map(([name, closer]) =>
          closeAll([{ name, close: () => closer.close() }], {
            timeoutMs: Math.max(2 * timeoutMs, 500),
            onError: (_, error) => logger.warn({ queue: name, err: (error as Error).message }, 'closing failed'),
          }).catch(() => undefined),
        ),
      );
    }),
  };
}
