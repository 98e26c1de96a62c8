// The API's metrics and request spans over fake queues: GET /metrics (with and without
// API keys), the HTTP histogram, the download counters as the real routes count them,
// queue depths (and a failing read), and one SERVER span per request with the handler
// inside it. The queue depth reader against a real
// Redis is tested in tests/api.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalFlagStore } from '@flagship/common';
import { createLogger } from '@flagship/runtime';
import { metricSample as sample } from '@flagship/runtime/metrics';
import { startTracing, type Tracing } from '@flagship/runtime/tracing';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type ApiDeps } from '../app.ts';
import { parseApiKeys } from '../auth/api-keys.ts';
import { createApiMetrics } from '../metrics/api-metrics.ts';
import { QueueUnavailableError } from '../errors.ts';
import type { QueueDepth, QueueDepthReader } from '../queues/queue-depth.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { TEST_CONFIG } from '../test-support/test-app.ts';
import { DOWNLOAD_ID, completedSnapshot, ok, snapshot } from '../test-support/fixtures.ts';
import type { FlagOutcome } from '@flagship/common';

const FINISHED_ID = '9c1d6f7e-1b7a-4f51-8d7e-2f0c3b4a5d6e';
const READ_KEY = 'read-key-0123456789';
const SUBMIT_KEY = 'submit-key-0123456789';
const failed = (code: string): FlagOutcome => ({ code, status: 'ERROR', reason: 'origin answered 500', attempts: 3 });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(deps: Partial<ApiDeps> = {}): Promise<FastifyInstance> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flagship-api-'));
  const app = await buildApp({
    config: TEST_CONFIG,
    queues: createFakeDownloadQueues(),
    store: createLocalFlagStore(dir),
    ...deps,
  });
  cleanups.push(
    () => rm(dir, { recursive: true, force: true }),
    () => app.close(),
  );
  return app;
}

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.body;
}

const depth = (waiting: number): QueueDepth => {
  const states = { waiting, prioritized: 0, delayed: 0, active: 1, 'waiting-children': 0, completed: 5, failed: 0 };
  return { downloads: { ...states }, flags: { ...states, waiting: waiting * 10 } };
};

describe('GET /metrics', () => {
  it('measures requests by route template and status class, and counts submitted downloads', async () => {
    const app = await start({ metrics: createApiMetrics({ processMetrics: false }) });
    const json = { 'content-type': 'application/json' };
    expect((await app.inject({ method: 'POST', url: '/v1/downloads', headers: json, payload: '{}' })).statusCode).toBe(
      202,
    );
    await app.inject({ method: 'POST', url: '/v1/downloads', headers: json, payload: '{"codes":["ZZ"]}' });
    await app.inject({ method: 'GET', url: '/v1/downloads/3b241101-e2bb-4255-8caf-4136c566a962' });
    await app.inject({ method: 'GET', url: '/nowhere' });

    const text = await scrape(app);
    const series = (labels: string) => `flagship_http_request_duration_seconds_count{${labels}}`;
    expect(sample(text, series('method="POST",route="/v1/downloads",status_class="2xx"'))).toBe(1);
    expect(sample(text, series('method="POST",route="/v1/downloads",status_class="4xx"'))).toBe(1);
    expect(sample(text, series('method="GET",route="/v1/downloads/:id",status_class="4xx"'))).toBe(1);
    expect(sample(text, series('method="GET",route="unmatched",status_class="4xx"'))).toBe(1);
    expect(text).toContain('# TYPE flagship_http_request_duration_seconds histogram');
    expect(sample(text, 'flagship_downloads_submitted_total')).toBe(1); // the refused one added nothing
    expect(sample(text, 'flagship_downloads_cancelled_total')).toBe(0);
    expect(sample(text, 'flagship_downloads_retried_total')).toBe(0);
  });

  it('counts each download once, by what its request did: submitted, replayed, cancelled, retried', async () => {
    const queues = createFakeDownloadQueues();
    const app = await start({ queues, metrics: createApiMetrics({ processMetrics: false }) });
    const submit = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/downloads',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        payload: '{"codes":["BR","CN"]}',
      });
    expect((await submit('k-1')).statusCode).toBe(202);
    const replay = await submit('k-1');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await submit('k-2')).statusCode).toBe(202);

    // A running download cancelled twice (the repeat answers 202 too), and a finished one (409).
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    const cancel = (id: string) => app.inject({ method: 'DELETE', url: `/v1/downloads/${id}` });
    expect((await cancel(DOWNLOAD_ID)).statusCode).toBe(202);
    expect((await cancel(DOWNLOAD_ID)).statusCode).toBe(202);
    queues.snapshots.set(FINISHED_ID, { ...completedSnapshot([ok('BR'), failed('CN')]), id: FINISHED_ID });
    expect((await cancel(FINISHED_ID)).statusCode).toBe(409);

    const retry = (id: string) => app.inject({ method: 'POST', url: `/v1/downloads/${id}/retry` });
    expect((await retry(FINISHED_ID)).statusCode).toBe(202);
    expect((await retry(DOWNLOAD_ID)).statusCode).toBe(202); // cancelled: its undecided flags
    expect((await retry('6e3f1c52-2f4b-4c55-9a43-0d9a3c1b7e10')).statusCode).toBe(404);

    const text = await scrape(app);
    expect(queues.added).toHaveLength(4); // two submitted, two retries
    expect(sample(text, 'flagship_downloads_submitted_total')).toBe(2);
    expect(sample(text, 'flagship_downloads_replayed_total')).toBe(1);
    expect(sample(text, 'flagship_downloads_cancelled_total')).toBe(1);
    expect(sample(text, 'flagship_downloads_retried_total')).toBe(2);
  });

  it('reports the depth of both queues by state, and the process gauges', async () => {
    let reads = 0;
    const queueDepth: QueueDepthReader = {
      read: async () => depth(++reads),
      close: async () => {},
    };
    const app = await start({ metrics: createApiMetrics({ queueDepth }) });
    const text = await scrape(app);
    expect(sample(text, 'flagship_queue_jobs{queue="downloads",state="waiting"}')).toBe(1);
    expect(sample(text, 'flagship_queue_jobs{queue="flags",state="waiting"}')).toBe(10);
    expect(sample(text, 'flagship_queue_jobs{queue="flags",state="active"}')).toBe(1);
    expect(sample(text, 'flagship_queue_depth_read_errors_total')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_delay_seconds{stat="p99"}');
  });

  it('still answers, without the depths, when Redis does not', async () => {
    const queueDepth: QueueDepthReader = {
      read: async () => {
        throw new QueueUnavailableError('Redis did not answer the queue depths within 1000 ms');
      },
      close: async () => {},
    };
    const app = await start({ metrics: createApiMetrics({ queueDepth, processMetrics: false }) });
    const text = await scrape(app);
    expect(text).not.toContain('flagship_queue_jobs{');
    expect(sample(text, 'flagship_queue_depth_read_errors_total')).toBe(1);
  });

  it('needs no API key by default when keys are on, and a read key with metricsScope read', async () => {
    const apiKeys = parseApiKeys(`viewer:${READ_KEY}:read,ci:${SUBMIT_KEY}:submit`);
    const open = await start({
      config: { ...TEST_CONFIG, apiKeys },
      metrics: createApiMetrics({ processMetrics: false }),
    });
    expect((await open.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await open.inject({ method: 'GET', url: '/v1/downloads' })).statusCode).toBe(401); // the rest still asks

    const guarded = await start({
      config: { ...TEST_CONFIG, apiKeys, metricsScope: 'read' },
      metrics: createApiMetrics({ processMetrics: false }),
    });
    const scrapeWith = (key?: string) =>
      guarded.inject({ method: 'GET', url: '/metrics', headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect((await scrapeWith()).statusCode).toBe(401);
    expect((await scrapeWith(SUBMIT_KEY)).statusCode).toBe(403);
    const allowed = await scrapeWith(READ_KEY);
    expect(allowed.statusCode).toBe(200);
    // The refused scrapes are measured too: the request hooks run before the keys are checked.
    expect(
      sample(
        allowed.body,
        'flagship_http_request_duration_seconds_count{method="GET",route="/metrics",status_class="4xx"}',
      ),
    ).toBe(2);
  });

  it('is not served when metrics are off, and app.metrics counts nothing', async () => {
    const app = await start();
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect(() => app.metrics.downloadsCancelled.inc()).not.toThrow();
    // The routes count through it all the same.
    const response = await app.inject({ method: 'POST', url: '/v1/downloads', payload: {} });
    expect(response.statusCode).toBe(202);
  });
});

describe('request spans', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  it('opens a SERVER span per request, runs the handler in it, and joins a caller’s trace', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'api-test', exporter });
    const activeAtEnqueue: (string | undefined)[] = [];
    const queues = createFakeDownloadQueues({
      addDownload: async () => {
        activeAtEnqueue.push(trace.getActiveSpan()?.spanContext().spanId);
      },
    });
    const app = await start({ queues, tracing: true });
    const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await app.inject({
      method: 'POST',
      url: '/v1/downloads',
      headers: { 'content-type': 'application/json', traceparent: `00-${callerTraceId}-00f067aa0ba902b7-01` },
      payload: '{"codes":["CN"]}',
    });
    expect(response.statusCode).toBe(202);
    await app.inject({ method: 'GET', url: '/healthz' }); // probes are not traced
    await app.inject({ method: 'GET', url: '/v1/downloads/3b241101-e2bb-4255-8caf-4136c566a962' });

    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['POST /v1/downloads', 'GET /v1/downloads/:id']);
    const [postSpan, getSpan] = spans;
    expect(postSpan).toMatchObject({ kind: SpanKind.SERVER });
    expect(postSpan!.attributes).toMatchObject({ 'http.route': '/v1/downloads', 'http.response.status_code': 202 });
    expect(postSpan!.spanContext().traceId).toBe(callerTraceId);
    expect(activeAtEnqueue).toEqual([postSpan!.spanContext().spanId]);
    expect(getSpan!.attributes['http.response.status_code']).toBe(404);
  });

  it('gives log lines about a request its downloadId and, inside the span, its traceId', async () => {
    tracing = await startTracing({ serviceName: 'api-test', exporter: new InMemorySpanExporter() });
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const logger = createLogger({ name: 'api', level: 'info', mixin: tracing!.logFields, destination });
    const app = await start({ tracing: true, logger });
    const id = '3b241101-e2bb-4255-8caf-4136c566a962';
    await app.inject({ method: 'GET', url: `/v1/downloads/${id}` });
    // Over a socket: the body arrives after the request's hooks began (inject() has it at once).
    await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"codes":["ZZ"]}',
    });
    expect(response.status).toBe(400);
    const refused = lines.filter((line) => line.msg === 'request refused');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ downloadId: id, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(refused[1]).toMatchObject({ traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });
});
