// The worker process: reads its configuration, starts tracing (when an OTLP endpoint
// is set), builds the Redis connection (one node, Sentinel or Cluster), the origin pool,
// the flag store (a folder or an S3 bucket), the metrics and the workers, starts them,
// and on SIGTERM/SIGINT shuts down in order: stop taking jobs, let running chunks finish
// (SHUTDOWN_TIMEOUT_MS) or hand them back to the queue, then close the origin pool and
// Redis, and flush the spans. The only module that reads process.env, handles signals or exits.
import { createQueueTelemetry, describeFlagStore, describeRedisEndpoint, openFlagStore } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { closeAll, loadConfigOrReport, createLogger } from '@flagship/runtime';
import { startTracing } from '@flagship/runtime/tracing';
import closeWithGrace from 'close-with-grace';
import { loadConfig, SHUTDOWN_CLOSE_MARGIN_MS as CLOSE_MARGIN_MS } from './config.ts';
import { createFlagWorkers } from './flag-worker.ts';
import { createOriginDispatcher } from './flags/origin-dispatcher.ts';
import { createHealthServer } from './health-server.ts';
import { createWorkerMetrics } from './metrics/worker-metrics.ts';

async function main(): Promise<void> {
  const config = loadConfigOrReport('worker', () => loadConfig(process.env)) ?? process.exit(1);
  const { observability } = config;
  const tracing = await startTracing({
    serviceName: observability.serviceName,
    endpoint: observability.otlpEndpoint,
    undici: true,
  });
  const logger = createLogger({
    name: 'worker',
    level: config.logLevel,
    ...(tracing ? { mixin: tracing.logFields } : {}),
  });
  // Before Redis: a bucket that is missing or refuses the keys stops the start here.
  const flagStore = await openFlagStore(config.store).catch((err: unknown) => {
    logger.fatal({ err, ...describeFlagStore(config.store) }, 'flag store unusable');
    process.exit(1);
  });
  const store = flagStore.store;
  // One node, a Sentinel-watched master or a Cluster; BullMQ and the cancel subscriber duplicate it.
  const connection = createRedisClient(config.redis, 'worker');
  // ioredis reconnects by itself; without a listener each failure is printed raw.
  connection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const dispatcher = createOriginDispatcher(config.originPool);
  const metrics = observability.metricsEnabled ? createWorkerMetrics({ originUrl: config.originUrl }) : undefined;
  const telemetry = tracing ? await createQueueTelemetry() : undefined;
  const workers = createFlagWorkers({ config, connection, dispatcher, store, logger, metrics, telemetry });
  let accepting = true;
  const health = createHealthServer(
    () => ({ ok: accepting && connection.status === 'ready', redis: connection.status, accepting }),
    metrics?.registry,
  );

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
          { name: 'metrics', close: () => metrics?.close() },
          { name: 'redis', close: () => connection.quit() },
          { name: 'tracing', close: () => tracing?.shutdown() },
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
      ...describeFlagStore(config.store),
      workerConcurrency: config.workerConcurrency,
      flagConcurrency: config.flagConcurrency,
      flagDeadlineMs: config.flagDeadlineMs,
      originRateLimit: config.originRateLimit || 'off',
      metrics: observability.metricsEnabled && config.healthPort > 0,
      tracing: tracing !== undefined,
    },
    'worker started',
  );
}

await main();
