// Bull Board (@bull-board/fastify) at /admin/queues: the BullMQ queues as an operator sees
// them (counts, jobs, their data, progress, return values and failures), read-only: every
// queue is added with readOnlyMode, so the board offers no retry, clean, pause or remove,
// and its API refuses them (405). Its routes are hidden from the OpenAPI document and keep
// Bull Board's own error handler inside this plugin's scope; the API's problem+json
// handlers are untouched elsewhere. Access control comes with API keys (the `admin`
// scope for /admin/*), not from here.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { QUEUE_PREFIX, QueueNames } from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardPluginOptions {
  /** The queues to show; closed when the app closes (their Redis connection is the caller's). */
  queues: readonly Queue[];
}

/**
 * The board's own Queue objects for both queues, on the given connection (the API's
 * producer): the DownloadQueues port keeps BullMQ to itself, and the board reads only.
 */
export function createBoardQueues(connection: Redis, logger: Logger = silentLogger(), prefix = QUEUE_PREFIX): Queue[] {
  return Object.values(QueueNames).map((name) => {
    const queue = new Queue(name, { connection, prefix });
    // An 'error' without a listener would throw; the connection's owner logs the outage.
    queue.on('error', (error: Error) => logger.debug({ queue: name, err: error.message }, 'board queue error'));
    return queue;
  });
}

/** Registered without fastify-plugin: Bull Board's error handler, views and statics stay in this scope. */
export async function bullBoardPlugin(app: FastifyInstance, options: BullBoardPluginOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Flagship queues' } },
  });
  app.addHook('onClose', async () => {
    await Promise.all(options.queues.map((queue) => queue.close()));
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
