// Bull Board (@bull-board/fastify) at /admin/queues: the BullMQ queues as an operator sees
// them (counts, jobs, their data, progress, return values and failures), read-only: every
// queue is added with readOnlyMode, so the board offers no retry, clean, pause or remove,
// and its API refuses them (405). Its routes are hidden from the OpenAPI document and keep
// Bull Board's own error handler inside this plugin's scope; the API's problem+json
// handlers are untouched elsewhere. Access control comes with API keys (the `admin`
// scope for /admin/*, plugins/api-keys.plugin.ts, Basic accepted there for browsers), not
// from here; but the refusals (401, 403, 429) thrown by the API's hooks on the board's
// routes would reach Bull Board's error handler, which answers every error 500, so
// those go to the API's problem+json handler instead (boardErrorHandler).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { QUEUE_PREFIX, QueueNames, type RedisClient } from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import { Queue } from 'bullmq';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardPluginOptions {
  /** The queues to show; closed when the app closes (their Redis connection is the caller's). */
  queues: readonly Queue[];
}

/**
 * The board's own Queue objects for both queues, on the given connection (the API's
 * producer): the DownloadQueues port keeps BullMQ to itself, and the board reads only.
 */
export function createBoardQueues(
  connection: RedisClient,
  logger: Logger = silentLogger(),
  prefix = QUEUE_PREFIX,
): Queue[] {
  return Object.values(QueueNames).map((name) => {
    const queue = new Queue(name, { connection, prefix });
    // An 'error' without a listener would throw; the connection's owner logs the outage.
    queue.on('error', (error: Error) => logger.debug({ queue: name, err: error.message }, 'board queue error'));
    return queue;
  });
}

type ErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;
type BoardErrorHandler = Parameters<FastifyAdapter['setErrorHandler']>[0];

/** The adapter, keeping the error handler Bull Board gives it so that boardErrorHandler can call it. */
class ProblemAwareFastifyAdapter extends FastifyAdapter {
  boardHandler: BoardErrorHandler | undefined;
  override setErrorHandler(handler: BoardErrorHandler): this {
    this.boardHandler = handler;
    return super.setErrorHandler(handler);
  }
}

/** The API's errors carry `status` (errors.ts), Fastify's `statusCode`. */
function isClientError(error: FastifyError & { status?: unknown }): boolean {
  const status = typeof error.status === 'number' ? error.status : error.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/**
 * For the board's routes: a client error (a refusal by the API's hooks) answered as the
 * rest of the API answers it (problem+json, with its WWW-Authenticate or Retry-After), any
 * other error as Bull Board answers it.
 */
function boardErrorHandler(problemHandler: ErrorHandler, adapter: ProblemAwareFastifyAdapter): ErrorHandler {
  return (error, request, reply) => {
    if (isClientError(error) || adapter.boardHandler === undefined) return problemHandler(error, request, reply);
    const answer = adapter.boardHandler(error);
    return reply.status(answer.status ?? 500).send(answer.body);
  };
}

/** Registered without fastify-plugin: Bull Board's error handler, views and statics stay in this scope. */
export async function bullBoardPlugin(app: FastifyInstance, options: BullBoardPluginOptions): Promise<void> {
  const serverAdapter = new ProblemAwareFastifyAdapter();
  const errorHandler = boardErrorHandler(app.errorHandler as ErrorHandler, serverAdapter);
  // A route's own error handler comes before its scope's (Bull Board's, set in its plugin).
  app.addHook('onRoute', (route) => {
    route.errorHandler = errorHandler;
  });
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
