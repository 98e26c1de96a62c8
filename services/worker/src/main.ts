// The worker process: reads its configuration, builds the Redis connection, the origin
// pool, the flag store and the workers, starts them, and on SIGTERM/SIGINT shuts down
// in order: stop taking jobs, let running chunks finish (SHUTDOWN_TIMEOUT_MS) or hand
// them back to the queue, then close the origin pool and Redis. The only module that
// reads process.env, handles signals or exits.
import { describeFlagStore, openFlagStore, redisOptions } from '@flagship/common';
import { Redis } from 'ioredis';
import { closeAll, loadConfigOrReport, createLogger } from '@flagship/runtime';
import closeWithGrace from 'close-with-grace';
import { loadConfig, SHUTDOWN_CLOSE_MARGIN_MS as CLOSE_MARGIN_MS } from './config.ts';
import { createFlagWorkers } from './flag-worker.ts';
import { createOriginDispatcher } from './flags/origin-dispatcher.ts';
import { createHealthServer } from './health-server.ts';

async function main(): Promise<void> {
  const config = loadConfigOrReport('worker', () => loadConfig(process.env)) ?? process.exit(1);
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  // Before Redis: a bucket that is missing or refuses the keys stops the start here.
  const flagStore = await openFlagStore(config.store).catch((err: unknown) => {
    logger.fatal({ err, ...describeFlagStore(config.store) }, 'flag store unusable');
    process.exit(1);
  });
  const store = flagStore.store;
  const connection = new Redis(config.redisUrl, redisOptions('worker'));
  // ioredis reconnects by itself; without a listener each failure is printed raw.
  connection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const dispatcher = createOriginDispatcher(config.originPool);
  const workers = createFlagWorkers({ config, connection, dispatcher, store, logger });
  let accepting = true;
  const health = createHealthServer(() => ({
    ok: accepting && connection.status === 'ready',
    redis: connection.status,
    accepting,
  }));

  closeWithGrace(
    { delay: config.shutdownTimeoutMs + 2 * CLOSE_MARGIN_MS, logger: { error: (msg) => logger.error(msg) } },
    async ({ signal, err }) => {
      if (err !== undefined) logger.error({ err }, 'unexpected error: shutting down');
      else logger.info({ signal }, 'shutting down');
      accepting = false;
      await closeAll(
        [
          { name: 'workers', close: () => workers.close() },
          { name: 'health endpoint', close: () => new Promise((resolve) => health.close(resolve)) },
          { name: 'origin pool', close: () => dispatcher.close() },
          { name: 'flag store', close: async () => flagStore.close() },
          { name: 'redis', close: () => connection.quit() },
        ],
        {
          timeoutMs: config.shutdownTimeoutMs + CLOSE_MARGIN_MS,
          onError: (name, error) => logger.error({ err: error, closing: name }, 'close failed'),
        },
      );
      logger.info('stopped');
    },
  );

  workers.run();
  if (config.healthPort > 0) health.listen(config.healthPort);
  logger.info(
    {
      origin: config.originUrl,
      ...describeFlagStore(config.store),
      workerConcurrency: config.workerConcurrency,
      flagConcurrency: config.flagConcurrency,
      flagDeadlineMs: config.flagDeadlineMs,
      originRateLimit: config.originRateLimit || 'off',
    },
    'worker started',
  );
}

await main();
