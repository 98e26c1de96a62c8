// The worker process: reads its configuration, builds the Redis connection, the origin
// pool, the flag store and the workers, starts them, and on SIGTERM/SIGINT shuts down
// in order: stop taking jobs, let running chunks finish (SHUTDOWN_TIMEOUT_MS) or hand
// them back to the queue, then close the origin pool and Redis. The only module that
// reads process.env, handles signals or exits.
import { createLocalFlagStore, describeRedisEndpoint } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { closeAll, loadConfigOrReport, createLogger } from '@flagship/runtime';
import closeWithGrace from 'close-with-grace';
import { loadConfig, SHUTDOWN_CLOSE_MARGIN_MS as CLOSE_MARGIN_MS } from './config.ts';
import { createFlagWorkers } from './flag-worker.ts';
import { createOriginDispatcher } from './flags/origin-dispatcher.ts';
import { createHealthServer } from './health-server.ts';

function main(): void {
  const config = loadConfigOrReport('worker', () => loadConfig(process.env)) ?? process.exit(1);
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  // One node, a Sentinel-watched master or a Cluster; BullMQ and the cancel subscriber duplicate it.
  const connection = createRedisClient(config.redis, 'worker');
  // ioredis reconnects by itself; without a listener each failure is printed raw.
  connection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const dispatcher = createOriginDispatcher(config.originPool);
  const store = createLocalFlagStore(config.downloadsDir);
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
      redis: describeRedisEndpoint(config.redis),
      origin: config.originUrl,
      downloadsDir: config.downloadsDir,
      workerConcurrency: config.workerConcurrency,
      flagConcurrency: config.flagConcurrency,
      flagDeadlineMs: config.flagDeadlineMs,
      originRateLimit: config.originRateLimit || 'off',
    },
    'worker started',
  );
}

main();
