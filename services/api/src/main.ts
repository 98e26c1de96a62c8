// Composition root of the API: configuration, tracing (when an OTLP endpoint is set),
// logger, Redis connections, metrics, the app, listening, and an orderly shutdown on
// SIGTERM/SIGINT (stop accepting, end the event streams, close
// QueueEvents/FlowProducer/Queues, then Redis, then flush the spans) under a deadline.
import closeWithGrace from 'close-with-grace';
import {
  createQueueTelemetry,
  describeFlagStore,
  describeRedisEndpoint,
  openFlagStore,
  type RedisClient,
} from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { closeAll, loadConfigOrReport, createLogger } from '@flagship/runtime';
import { startTracing } from '@flagship/runtime/tracing';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createApiMetrics } from './metrics/api-metrics.ts';
import { createBoardQueues } from './plugins/bull-board.plugin.ts';
import { createBullmqDownloadQueues } from './queues/bullmq-download-queues.ts';
import { createQueueDepthReader } from './queues/queue-depth.ts';

/** QUIT when connected; a connection still retrying would queue the QUIT until Redis is back. */
async function closeRedis(connection: RedisClient): Promise<void> {
  if (connection.status === 'ready') await connection.quit();
  else connection.disconnect();
}

const config = loadConfigOrReport('api', () => loadConfig(process.env)) ?? process.exit(1);
// The keys are kept hashed (config.apiKeys); their plaintext leaves the environment.
delete process.env.API_KEYS;
const { observability } = config;
const tracing = await startTracing({ serviceName: observability.serviceName, endpoint: observability.otlpEndpoint });
const logger = createLogger({ name: 'api', level: config.logLevel, ...(tracing ? { mixin: tracing.logFields } : {}) });
// A bucket that is missing or refuses the keys stops the start here, not at the first GET.
const flagStore = await openFlagStore(config.store).catch((err: unknown) => {
  logger.fatal({ err, ...describeFlagStore(config.store) }, 'flag store unusable');
  process.exit(1);
});
logger.info({ ...describeFlagStore(config.store), flagDelivery: config.flagDelivery.mode }, 'flag store ready');

// One node, a Sentinel-watched master or a Cluster, as REDIS_URL (or REDIS_SENTINELS,
// REDIS_CLUSTER_NODES) says; everything else duplicates these two.
const producer = createRedisClient(config.redis, 'producer');
const events = createRedisClient(config.redis, 'events');
logger.info({ redis: describeRedisEndpoint(config.redis) }, 'redis');
for (const [role, connection] of Object.entries({ producer, events })) {
  // ioredis reconnects by itself; without a listener it prints every failed attempt.
  connection.on('error', (error: Error) => logger.warn({ role, err: error.message }, 'redis connection error'));
}

const queues = createBullmqDownloadQueues({
  connection: producer,
  eventsConnection: events,
  timeoutMs: config.redisTimeoutMs,
  logger: logger.child({ component: 'queues' }),
  ...(tracing ? { telemetry: await createQueueTelemetry() } : {}),
});
const metrics = observability.metricsEnabled
  ? createApiMetrics({ queueDepth: createQueueDepthReader({ connection: producer, timeoutMs: config.redisTimeoutMs }) })
  : undefined;
const app = await buildApp({
  config,
  queues,
  store: flagStore.store,
  flagDelivery: config.flagDelivery,
  logger,
  adminQueues: createBoardQueues(producer, logger.child({ component: 'bull-board' })),
  rateLimitRedis: producer,
  metrics,
  tracing: tracing !== undefined,
});

closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an error');
  else logger.info({ signal }, 'shutting down');
  await closeAll(
    [
      { name: 'http server, event streams and queues', close: () => app.close() },
      { name: 'metrics', close: () => metrics?.close() },
      { name: 'redis producer', close: () => closeRedis(producer) },
      { name: 'redis events', close: () => closeRedis(events) },
      { name: 'flag store', close: async () => flagStore.close() },
      { name: 'tracing', close: () => tracing?.shutdown() },
    ],
    {
      timeoutMs: config.shutdownTimeoutMs,
      onError: (name, error) => logger.error({ err: error, component: name }, 'close failed'),
    },
  );
});

await app.listen({ port: config.port, host: config.host });
