// The Fastify application, built but not listening: main.ts listens, tests inject().
// Everything it talks to is a parameter, so tests give it in-memory queues or real
// Redis under a test-only prefix.
import fastifySseModule, { type SSEPluginOptions } from '@fastify/sse';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type FlagStore, type RedisClient } from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import type { Queue } from 'bullmq';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { ApiConfig } from './config.ts';
import { createDownloadEventHub } from './downloads/download-event-hub.ts';
import type { ApiMetrics } from './metrics/api-metrics.ts';
import { bullBoardPlugin } from './plugins/bull-board.plugin.ts';
import { dashboardPlugin } from './plugins/dashboard.plugin.ts';
import { apiKeysPlugin, SECURITY_SCHEMES } from './plugins/api-keys.plugin.ts';
import { downloadQueuesPlugin } from './plugins/download-queues.plugin.ts';
import { metricsRoutes, observabilityPlugin } from './plugins/observability.plugin.ts';
import { problemDetailsPlugin, problemFrameworkErrors } from './plugins/problem-details.plugin.ts';
import { rateLimitPlugin } from './plugins/rate-limit.plugin.ts';
import type { DownloadQueues } from './queues/download-queues.ts';
import { controlPlaneRoutes } from './routes/control-plane.routes.ts';
import { downloadsRoutes } from './routes/downloads.routes.ts';
import { flagsRoutes, type FlagDeliveryOptions } from './routes/flags.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';

// @fastify/sse is CommonJS whose types declare an ES default export; under Node's ESM
// interop the default import is module.exports, the fastify-plugin-wrapped plugin
// (its `.default` is the unwrapped one, which would hide the route hook in a child scope).
const fastifySse = fastifySseModule as unknown as FastifyPluginAsync<SSEPluginOptions>;

/**
 * The parts of ApiConfig the app itself uses (main.ts uses the rest). Retention and
 * idempotency have defaults; without apiKeys the API is open; without rateLimit (or with
 * max 0) nothing is limited; GET /metrics is public unless metricsScope says `read`.
 */
export type AppConfig = Pick<ApiConfig, 'chunkSize' | 'bodyLimitBytes' | 'sseHeartbeatMs'> &
  Partial<
    Pick<
      ApiConfig,
      'downloadRetention' | 'idempotencyTtlSeconds' | 'apiKeys' | 'rateLimit' | 'redisTimeoutMs' | 'metricsScope'
    >
  >;

export interface ApiDeps {
  config: AppConfig;
  /** The queues (createBullmqDownloadQueues, or a fake). The app closes them on close. */
  queues: DownloadQueues;
  /** Where saved flags are read from. */
  store: FlagStore;
  /** How GET /v1/flags/:file answers (config.flagDelivery). Default: the API streams the bytes. */
  flagDelivery?: Readonly<FlagDeliveryOptions>;
  /** Root logger; the app logs under it. Default: silent. */
  logger?: Logger;
  /** Clock for elapsed times. Default Date.now. */
  now?: () => number;
  /** How long the queues' event streams are still read after the last SSE follower left. Default 5000 ms. */
  eventsLingerMs?: number;
  /** Prometheus metrics (createApiMetrics), served at GET /metrics. Default: none, `app.metrics` counts nothing. */
  metrics?: ApiMetrics;
  /** One span per request (tracing was started). Default false. */
  tracing?: boolean;
  /** Queues Bull Board shows, read-only, at /admin/queues (createBoardQueues); closed on close. Omitted: no board. */
  adminQueues?: readonly Queue[];
  /** Where rate-limit counters live (the producer connection); default: in memory. */
  rateLimitRedis?: RedisClient;
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const logger = deps.logger ?? silentLogger();
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    // Unknown fields in a body are an error to report, not something to strip silently.
    ajv: { customOptions: { removeAdditional: false } },
    // Two info lines per request (Fastify's default) cost two stdout writes per POST at
    // the default LOG_LEVEL; requests are logged once, at debug, in onResponse below.
    logController: new LogController({ disableRequestLogging: true }),
    // Router errors (bad percent-encoding, over-long parameters) as problem+json too.
    frameworkErrors: problemFrameworkErrors,
    // A saved flag's name may take 255 bytes, percent-encoded up to three times as long
    // (the router's default of 100 characters answered 414 for long country names).
    routerOptions: { maxParamLength: 1_024 },
  })
    .setValidatorCompiler(TypeBoxValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();

  if (logger.isLevelEnabled('debug')) {
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
    });
  }
  await app.register(observabilityPlugin, {
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    tracing: deps.tracing === true,
  });
  closeConnectionsAsTheyGoIdle(app);
  await app.register(problemDetailsPlugin);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Flagship API',
        version: '0.1.0',
        description: 'Submit, inspect and follow country-flag downloads; fetch the saved flags.',
      },
      tags: [{ name: 'downloads' }, { name: 'flags' }, { name: 'health' }],
      components: { securitySchemes: SECURITY_SCHEMES },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Before every route: scopes and limits apply to routes registered after them.
  await app.register(apiKeysPlugin, { keys: deps.config.apiKeys ?? [] });
  const limit = deps.config.rateLimit;
  if (limit !== undefined && limit.max > 0) {
    await app.register(rateLimitPlugin, {
      ...limit,
      timeoutMs: deps.config.redisTimeoutMs ?? 1_000,
      ...(deps.rateLimitRedis ? { redis: deps.rateLimitRedis } : {}),
    });
  }
  await app.register(fastifySse, { heartbeatInterval: deps.config.sseHeartbeatMs });

  const hub = createDownloadEventHub(deps.queues.events, {
    logger: logger.child({ component: 'download-events' }),
    ...(deps.eventsLingerMs === undefined ? {} : { lingerMs: deps.eventsLingerMs }),
  });
  await app.register(downloadQueuesPlugin, { queues: deps.queues, hub });
  await app.register(healthRoutes, { queues: deps.queues });
  if (deps.metrics) {
    await app.register(metricsRoutes, { metrics: deps.metrics, scope: deps.config.metricsScope ?? 'public' });
  }
  const retention = deps.config.downloadRetention ? { retention: deps.config.downloadRetention } : {};
  await app.register(downloadsRoutes, {
    queues: deps.queues,
    hub,
    chunkSize: deps.config.chunkSize,
    ...retention,
    ...(deps.config.idempotencyTtlSeconds ? { idempotencyTtlSeconds: deps.config.idempotencyTtlSeconds } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  await app.register(controlPlaneRoutes, {
    queues: deps.queues,
    chunkSize: deps.config.chunkSize,
    ...retention,
    ...(deps.now ? { now: deps.now } : {}),
  });
  await app.register(flagsRoutes, {
    store: deps.store,
    ...(deps.flagDelivery === undefined ? {} : { delivery: deps.flagDelivery }),
  });
  await app.register(dashboardPlugin);
  if (deps.adminQueues) await app.register(bullBoardPlugin, { queues: deps.adminQueues });
  return app;
}

/**
 * On close, Node ends the keep-alive connections idle at that moment. One whose response
 * is still finishing goes idle a moment later and, kept alive (Fastify's default is 72 s),
 * would hold the close up for that long (seen as a 10 s close timeout in the pipeline
 * test, right after a flag was served). Such connections are closed as their responses
 * finish.
 */
function closeConnectionsAsTheyGoIdle(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onResponse', (_request, _reply, done) => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
}
