// What the API tells about its requests, observed from Fastify hooks so that no route
// has to: `app.metrics` (the download counters routes increment), the HTTP request
// duration histogram when metrics are on, one SERVER span per request when tracing is on
// (the route handler runs inside it, so the enqueue's BullMQ span is its child), and
// `downloadId` on the request's log lines when the URL names one. Registered first, so
// its hooks see every route (401s and 429s too). GET /metrics itself is metricsRoutes,
// registered after the API keys so that METRICS_SCOPE applies to it.
import { SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import type { RouteScope } from '../auth/route-scope.ts';
import { NO_DOWNLOAD_COUNTERS, type ApiMetrics, type DownloadCounters } from '../metrics/api-metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The download counters the routes increment (`app.metrics.downloadsSubmitted.inc()`,
     * …; metrics/api-metrics.ts says which route counts what). They count nothing when
     * metrics are off.
     */
    metrics: DownloadCounters;
  }
}

export interface ObservabilityPluginOptions {
  /** createApiMetrics(); without it nothing is measured. */
  metrics?: ApiMetrics;
  /** A span per request: tracing has been started (startTracing). */
  tracing?: boolean;
}

/** Probes and scrapes, every few seconds: a trace each would drown the downloads' traces. */
const UNTRACED_ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

async function observability(app: FastifyInstance, options: ObservabilityPluginOptions): Promise<void> {
  app.decorate('metrics', options.metrics ?? NO_DOWNLOAD_COUNTERS);
  bindDownloadIdToLogs(app);
  if (options.tracing) traceRequests(app);
  if (options.metrics) measureRequests(app, options.metrics);
}

function bindDownloadIdToLogs(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const id = (request.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string') request.log = request.log.child({ downloadId: id });
    done();
  });
}

function measureRequests(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

export interface MetricsRoutesOptions {
  metrics: ApiMetrics;
  /**
   * What a scrape needs when API keys are on (METRICS_SCOPE): `public` (the default: a
   * Prometheus scrapes without a key, like the health probes) or `read` (a key with the
   * read scope, sent by Prometheus as `authorization: { credentials_file: … }`).
   */
  scope: Extract<RouteScope, 'public' | 'read'>;
}

/** GET /metrics, Prometheus' text format. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics, scope }) => {
  app.get(
    '/metrics',
    {
      config: { scope },
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        // With API keys on, the keys plugin adds "Needs an API key with the `read` scope".
        ...(scope === 'public' ? { description: 'Open without an API key (METRICS_SCOPE=public).' } : {}),
        tags: ['health'],
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};

interface RequestTrace {
  span: Span;
  context: Context;
}

function traceRequests(app: FastifyInstance): void {
  const tracer = trace.getTracer('flagship-api');
  const traces = new WeakMap<FastifyRequest, RequestTrace>();

  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && UNTRACED_ROUTES.has(route)) return done();
    // A caller that sends `traceparent` gets this request in its own trace.
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0] ?? request.url,
          ...(route === undefined ? {} : { 'http.route': route }),
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    traces.set(request, { span, context: active });
    context.with(active, done);
  });
  // The handler runs inside the request's span wherever Fastify resumes it (after an
  // async hook of another plugin, say), as @fastify/otel does.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function tracedHandler(this: FastifyInstance, request, reply) {
      const traced = traces.get(request);
      return traced === undefined
        ? handler.call(this, request, reply)
        : context.with(traced.context, handler, this, request, reply);
    } as RouteHandlerMethod;
  });
  app.addHook('onError', (request, _reply, error, done) => {
    traces.get(request)?.span.recordException(error);
    done();
  });
  const end = (request: FastifyRequest, statusCode: number | undefined) => {
    const traced = traces.get(request);
    if (traced === undefined) return;
    traces.delete(request);
    if (statusCode !== undefined) traced.span.setAttribute('http.response.status_code', statusCode);
    if (statusCode === undefined || statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
    traced.span.end();
  };
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}

export const observabilityPlugin = fp(observability, { name: 'flagship-observability', fastify: '5.x' });
