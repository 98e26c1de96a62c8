// Metrics and traces of the whole pipeline on a real Redis (the in-process pipeline of
// pipeline.test.ts, observed as main.ts observes it). After one download, the API's
// /metrics and the worker's show its requests, submission, queue depths, flags by
// outcome, origin requests, bytes, retries and jobs. The control plane is counted as it
// happens: an idempotent replay apart from submissions, a retry, a repeat whose flags
// come back unchanged (conditional GET), a cancel once however often it is asked, with
// the flags decided before it. The queue depths are read from Redis at most once per
// interval, and a Redis that does not answer leaves the scrape without them, in time.
// With tracing on (an in-memory exporter), one download is one trace: the API request,
// the enqueue, each chunk job, every flag's origin GETs and its save, and the worker's
// log lines about it carry its trace id. Last, the api and worker main.ts as processes,
// API keys on: /metrics served without a key, spans exported over OTLP/HTTP to a
// collector when OTEL_EXPORTER_OTLP_ENDPOINT is set, and the trace id on the log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createApiMetrics, createBullmqDownloadQueues, createQueueDepthReader } from '@flagship/api';
import { HttpContracts, buildDownloadJobs, createQueueTelemetry, type DownloadStatus } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { createLogger, silentLogger } from '@flagship/runtime';
import { metricSample as sample } from '@flagship/runtime/metrics';
import { startTracing, type Tracing } from '@flagship/runtime/tracing';
import { SpanKind } from '@opentelemetry/api';
import { createOriginServer } from '@flagship/origin';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet, startPipeline, type Pipeline, type PipelineOptions } from './support/pipeline.ts';
import { readSse } from './support/sse.ts';

let redis: StartedRedisContainer;
let pipeline: Pipeline | undefined;
let tracing: Tracing | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [redis] = await Promise.all([
    new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start(),
    originDataSet(),
  ]);
});

afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await tracing?.shutdown();
  tracing = undefined;
});

afterAll(async () => {
  await redis?.stop();
});

/** Twelve codes in chunks of 5 (a flow of 3 chunks): DK missing at the origin, BR always failing. */
const CODES = ['CN', 'IN', 'US', 'ID', 'BR', 'PK', 'NG', 'BD', 'RU', 'JP', 'MX', 'DK'];
const OPTIONS: Omit<PipelineOptions, 'redisUrl'> = {
  chunkSize: 5,
  missingCodes: ['DK'],
  faults: { failCodes: ['BR'] },
  workerEnv: { FLAG_ATTEMPTS: '2' },
};

async function start(options: Omit<PipelineOptions, 'redisUrl'>): Promise<Pipeline> {
  pipeline = await startPipeline({ redisUrl: redis.getConnectionUrl(), ...OPTIONS, ...options });
  return pipeline;
}

interface Submitted {
  id: string;
  replayed: boolean;
}

/** POST a download (or a retry, with `url`); its id, and whether it was an idempotent replay. */
async function submit(
  api: string,
  options: { body?: unknown; headers?: Record<string, string>; url?: string } = {},
): Promise<Submitted> {
  const response = await fetch(`${api}${options.url ?? '/v1/downloads'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify(options.body ?? { codes: CODES }),
  });
  expect(response.status).toBe(202);
  const { id } = HttpContracts.downloadAccepted.parse(await response.json());
  return { id, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

/** Follow the events until the download completes; its final status. */
async function follow(api: string, id: string, headers: Record<string, string> = {}): Promise<DownloadStatus> {
  const events = await readSse(`${api}/v1/downloads/${id}/events`, (e) => ['completed', 'failed'].includes(e.event), {
    headers,
  });
  expect(events.at(-1)?.event).toBe('completed');
  return HttpContracts.downloadStatus.parse(JSON.parse(events.at(-1)!.data));
}

/** Submit the twelve codes and follow them to the end. */
async function download(api: string, headers: Record<string, string> = {}): Promise<DownloadStatus> {
  return follow(api, (await submit(api, { headers })).id, headers);
}

/** Polls `condition` every 50 ms until it holds, for at most `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

describe('metrics', () => {
  it('show one download on the API and on the worker', async () => {
    const p = await start({ metrics: true });
    const status = await download(p.api);
    expect(status).toMatchObject({ total: 12, saved: 10, notFound: 1, failed: 1 });

    const api = await scrape(`${p.api}/metrics`);
    expect(sample(api, 'flagship_downloads_submitted_total')).toBe(1);
    expect(
      sample(
        api,
        'flagship_http_request_duration_seconds_count{method="POST",route="/v1/downloads",status_class="2xx"}',
      ),
    ).toBe(1);
    expect(sample(api, 'flagship_queue_jobs{queue="downloads",state="completed"}')).toBe(1);
    expect(sample(api, 'flagship_queue_jobs{queue="flags",state="completed"}')).toBe(3);
    expect(sample(api, 'flagship_queue_jobs{queue="flags",state="waiting"}')).toBe(0);
    expect(sample(api, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    const worker = await scrape(p.workerMetrics!);
    expect(sample(worker, 'flagship_flags_total{outcome="OK"}')).toBe(10);
    expect(sample(worker, 'flagship_flags_total{outcome="NOT_FOUND"}')).toBe(1);
    expect(sample(worker, 'flagship_flags_total{outcome="ERROR"}')).toBe(1);
    expect(sample(worker, 'flagship_flags_total{outcome="UNCHANGED"}')).toBe(0);
    expect(sample(worker, 'flagship_flag_retries_total')).toBe(1); // BR's second attempt
    const requests = (label: string) =>
      sample(worker, `flagship_origin_request_duration_seconds_count{status_class="${label}"}`);
    expect(requests('2xx')).toBe(20); // GIF and metadata.json of each saved flag
    expect(requests('4xx')).toBeGreaterThanOrEqual(1);
    expect(requests('5xx')).toBeGreaterThanOrEqual(2);
    const gifBytes = status.outcomes.reduce((sum, outcome) => sum + (outcome.bytes ?? 0), 0);
    expect(sample(worker, 'flagship_downloaded_bytes_total')).toBeGreaterThan(gifBytes);
    expect(sample(worker, 'flagship_job_duration_seconds_count{kind="chunk",result="completed"}')).toBe(3);
    expect(sample(worker, 'flagship_job_duration_seconds_count{kind="parent",result="completed"}')).toBe(1);
    expect(sample(worker, 'flagship_jobs_active{queue="flags"}')).toBe(0);
    expect(sample(worker, 'flagship_jobs_active{queue="downloads"}')).toBe(0);
    expect(worker).toContain('nodejs_eventloop_delay_seconds{stat="p99"}');
  });

  it('count what the control plane did: an idempotent replay apart, a retry, and unchanged flags on a repeat', async () => {
    const p = await start({ metrics: true });
    const key = { 'idempotency-key': `obs-${randomUUID()}` };
    const first = await submit(p.api, { headers: key });
    expect(first.replayed).toBe(false);
    expect(await submit(p.api, { headers: key })).toEqual({ id: first.id, replayed: true });
    expect(await follow(p.api, first.id)).toMatchObject({ saved: 10, notFound: 1, failed: 1 });
    const retry = await submit(p.api, { url: `/v1/downloads/${first.id}/retry`, body: {} });
    expect(await follow(p.api, retry.id)).toMatchObject({ total: 1, failed: 1 }); // BR fails again
    // The same codes again: the saved flags are asked for with their validators, and unchanged.
    const repeat = await download(p.api);
    expect(repeat.outcomes.filter((outcome) => outcome.status === 'OK' && outcome.unchanged)).toHaveLength(10);

    const api = await scrape(`${p.api}/metrics`);
    expect(sample(api, 'flagship_downloads_submitted_total')).toBe(2);
    expect(sample(api, 'flagship_downloads_replayed_total')).toBe(1);
    expect(sample(api, 'flagship_downloads_retried_total')).toBe(1);
    expect(sample(api, 'flagship_downloads_cancelled_total')).toBe(0);
    const worker = await scrape(p.workerMetrics!);
    expect(sample(worker, 'flagship_flags_total{outcome="OK"}')).toBe(10);
    expect(sample(worker, 'flagship_flags_total{outcome="UNCHANGED"}')).toBe(10);
    expect(sample(worker, 'flagship_flags_total{outcome="NOT_FOUND"}')).toBe(2);
    expect(sample(worker, 'flagship_flags_total{outcome="ERROR"}')).toBe(3); // BR in each of the three
    expect(sample(worker, 'flagship_origin_request_duration_seconds_count{status_class="3xx"}')).toBe(20); // 304s
  });

  it('count a cancel once, however often it is asked, and the flags its jobs decided before it', async () => {
    const p = await start({ metrics: true, chunkSize: 25, faults: { delayMs: [150, 250] } });
    const { id } = await submit(p.api, { body: { all: true } });
    // Cancel once some flags are in, while most are still to come.
    await waitFor(async () => sample(await scrape(p.workerMetrics!), 'flagship_flags_total{outcome="OK"}')! >= 10);
    const cancel = () => fetch(`${p.api}/v1/downloads/${id}`, { method: 'DELETE' });
    expect((await cancel()).status).toBe(202);
    expect((await cancel()).status).toBe(202); // the repeat answers the same, and is not counted
    await waitFor(async () => {
      const worker = await scrape(p.workerMetrics!);
      return (
        sample(worker, 'flagship_jobs_active{queue="flags"}') === 0 &&
        sample(worker, 'flagship_job_duration_seconds_count{kind="parent",result="cancelled"}') === 1
      );
    });

    expect(sample(await scrape(`${p.api}/metrics`), 'flagship_downloads_cancelled_total')).toBe(1);
    const worker = await scrape(p.workerMetrics!);
    const status = HttpContracts.downloadStatus.parse(await (await fetch(`${p.api}/v1/downloads/${id}`)).json());
    expect(status.state).toBe('cancelled');
    expect(status.done).toBeLessThan(250);
    // The worker counted exactly the flags the download's status lists as decided.
    const counted = ['OK', 'UNCHANGED', 'NOT_FOUND', 'ERROR'].reduce(
      (sum, outcome) => sum + sample(worker, `flagship_flags_total{outcome="${outcome}"}`)!,
      0,
    );
    expect(counted).toBe(status.done);
    expect(sample(worker, 'flagship_job_duration_seconds_count{kind="chunk",result="cancelled"}')).toBeGreaterThan(0);
  });

  it('read the queue depths from Redis once per interval, and report without them, in time, when Redis does not answer', async () => {
    const prefix = `{test-${randomUUID()}}`;
    const producer = createRedisClient({ mode: 'standalone', url: redis.getConnectionUrl() }, 'producer');
    const admin = new Redis(redis.getConnectionUrl());
    producer.on('error', () => {});
    await Promise.all([once(producer, 'ready'), once(admin, 'ready')]);
    const queues = createBullmqDownloadQueues({ connection: producer, eventsConnection: producer, prefix });
    let clock = 0;
    const reader = createQueueDepthReader({ connection: producer, prefix, timeoutMs: 300, now: () => clock });
    const metrics = createApiMetrics({ queueDepth: reader, processMetrics: false });
    cleanups.push(
      () => queues.close(),
      () => metrics.close(),
      () => Promise.all([producer.quit(), admin.quit()]),
    );
    const addDownload = () => queues.addDownload(buildDownloadJobs(randomUUID(), CODES, { chunkSize: 5, prefix }));

    await addDownload();
    expect((await reader.read()).flags.waiting).toBe(3);
    expect((await reader.read())['downloads']['waiting-children']).toBe(1);
    await addDownload();
    expect((await reader.read()).flags.waiting).toBe(3); // the same second: not read again
    clock += 1_000;
    expect((await reader.read()).flags.waiting).toBe(6);

    await admin.client('PAUSE', 1_500, 'ALL');
    clock += 1_000;
    const started = performance.now();
    await expect(reader.read()).rejects.toThrow('within 300 ms');
    const text = await metrics.registry.metrics();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(text).not.toContain('flagship_queue_jobs{');
    expect(sample(text, 'flagship_queue_depth_read_errors_total')).toBe(1);
    await admin.ping(); // answered once the pause is over
  });
});

interface SpanNode {
  span: ReadableSpan;
  children: SpanNode[];
}

/** What a span was about, from its attributes: a flag's code and outcome, a GET's file and status, a saved file. */
function describeSpan(span: ReadableSpan): string {
  const a = span.attributes;
  if (span.name === 'download flag') {
    return [a['flagship.flag.code'], a['flagship.flag.status'], a['flagship.flag.unchanged'] ? 'unchanged' : '']
      .filter(Boolean)
      .join(' ');
  }
  if (span.kind === SpanKind.CLIENT) {
    const file = String(a['url.full'] ?? a['url.path'] ?? '')
      .split('/')
      .pop();
    return `${file} ${a['http.response.status_code'] ?? 'no answer'}`;
  }
  if (span.name === 'save flag') return String(a['flagship.file'] ?? '');
  return '';
}

/** The spans of one trace as an indented tree: name, kind, duration and what each was about. */
function renderTrace(spans: readonly ReadableSpan[]): string {
  const nodes = new Map(spans.map((span) => [span.spanContext().spanId, { span, children: [] } as SpanNode]));
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = nodes.get(node.span.parentSpanContext?.spanId ?? '');
    (parent?.children ?? roots).push(node);
  }
  const ms = (span: ReadableSpan) => span.duration[0] * 1e3 + span.duration[1] / 1e6;
  const lines: string[] = [];
  const walk = (node: SpanNode, depth: number) => {
    const line = `${'  '.repeat(depth)}${node.span.name} [${SpanKind[node.span.kind]}] ${ms(node.span).toFixed(1)} ms`;
    const about = describeSpan(node.span);
    lines.push(about === '' ? line : `${line.padEnd(52)} ${about}`);
    const children = [...node.children].sort(
      (a, b) => a.span.startTime[0] - b.span.startTime[0] || a.span.startTime[1] - b.span.startTime[1],
    );
    for (const child of children) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return lines.join('\n');
}

describe('traces', () => {
  it('follow one download in one trace: API request, enqueue, chunk jobs, origin GETs, saves; its log lines carry the trace id', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'flagship-test', exporter, undici: true });
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const worker = createLogger({ name: 'worker', level: 'debug', mixin: tracing!.logFields, destination });
    const p = await start({ telemetry: await createQueueTelemetry(), logger: { worker } });
    const status = await download(p.api);
    await p.close(); // every job's span has ended once the workers have stopped
    pipeline = undefined;

    const spans = exporter.getFinishedSpans();
    const request = spans.find((span) => span.name === 'POST /v1/downloads');
    expect(request?.kind).toBe(SpanKind.SERVER);
    expect(request?.parentSpanContext).toBeUndefined(); // the trace starts at the API
    const traceId = request!.spanContext().traceId;
    const trace = spans.filter((span) => span.spanContext().traceId === traceId);
    const named = (name: string) => trace.filter((span) => span.name === name);
    if (process.env.FLAGSHIP_PRINT_TRACE === '1') console.log(renderTrace(trace));

    expect(trace.filter((span) => span.kind === SpanKind.PRODUCER).length).toBeGreaterThanOrEqual(4); // flow, parent, 3 chunks
    const chunkJobs = named('process flags');
    expect(chunkJobs).toHaveLength(3);
    expect(chunkJobs.every((span) => span.kind === SpanKind.CONSUMER)).toBe(true);
    expect(named('process downloads')).toHaveLength(1); // the parent merging the chunks
    expect(named('download flag')).toHaveLength(12);
    expect(named('save flag')).toHaveLength(10);
    const gets = trace.filter((span) => span.kind === SpanKind.CLIENT);
    expect(gets.length).toBe(20 + 2 + 4); // 10 saved, DK (404), BR twice (500): GIF and metadata each
    expect(gets.every((span) => span.name === 'GET')).toBe(true);
    // Nothing of the download's work landed in another trace.
    const elsewhere = spans.filter(
      (span) => span.spanContext().traceId !== traceId && ['download flag', 'save flag', 'GET'].includes(span.name),
    );
    expect(elsewhere).toEqual([]);

    const aboutTheDownload = lines.filter((line) => line.downloadId === status.id);
    expect(aboutTheDownload.length).toBeGreaterThanOrEqual(4); // 3 chunks done, the summary
    for (const line of aboutTheDownload) {
      expect(line, String(line.msg)).toMatchObject({ jobId: expect.any(String), traceId });
    }
  });
});

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface ServiceProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first log line `until` accepts. */
  waitFor(until: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function startService(script: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [path.resolve(import.meta.dirname, script)], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => child.kill('SIGKILL'));
  const lines: Record<string, unknown>[] = [];
  const waiting: {
    until: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiting.filter((candidate) => candidate.until(line))) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  return {
    child,
    lines,
    waitFor: (until) =>
      new Promise((resolve, reject) => {
        const seen = lines.find(until);
        if (seen !== undefined) return resolve(seen);
        waiting.push({ until, resolve });
        child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before the awaited log line`)));
      }),
  };
}

async function stop(service: ServiceProcess): Promise<number | null> {
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

describe('main.ts', () => {
  it('serves /metrics on the api and the worker, and exports the spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const exports: { contentType: string | undefined; body: Buffer }[] = [];
    const collector = await listen(
      createServer((request: IncomingMessage, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (request.method === 'POST' && request.url === '/v1/traces') {
            exports.push({ contentType: request.headers['content-type'], body: Buffer.concat(chunks) });
          }
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      }),
    );
    const dataSet = await originDataSet();
    const origin = createOriginServer({ dataSet, logger: silentLogger() });
    await origin.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => origin.close());
    const downloadsDir = await mkdtemp(path.join(tmpdir(), 'flagship-observability-'));
    cleanups.push(() => rm(downloadsDir, { recursive: true, force: true }));
    const common = {
      REDIS_URL: redis.getConnectionUrl(),
      DOWNLOADS_DIR: downloadsDir,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector,
    };
    const healthPort = await freePort();
    const worker = startService('../services/worker/src/main.ts', {
      ...common,
      ORIGIN_URL: `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}/data/flags`,
      WORKER_HEALTH_PORT: String(healthPort),
    });
    // With API keys on: the download needs one, the scrape (METRICS_SCOPE's default, public) does not.
    const key = 'observability-key-0123456789';
    const api = startService('../services/api/src/main.ts', {
      ...common,
      PORT: '0',
      HOST: '127.0.0.1',
      CHUNK_SIZE: '5',
      API_KEYS: `ci:${key}:read+submit`,
    });
    await worker.waitFor((line) => line.msg === 'worker started');
    const listening = await api.waitFor((line) => String(line.msg).startsWith('Server listening at'));
    const apiUrl = String(listening.msg).replace('Server listening at ', '');
    const status = await download(apiUrl, { authorization: `Bearer ${key}` });
    expect(status).toMatchObject({ total: 12, saved: 12 });

    const apiMetrics = await scrape(`${apiUrl}/metrics`);
    expect(sample(apiMetrics, 'flagship_downloads_submitted_total')).toBe(1);
    expect(sample(apiMetrics, 'flagship_queue_jobs{queue="flags",state="completed"}')).toBe(3);
    const workerMetrics = await scrape(`http://127.0.0.1:${healthPort}/metrics`);
    expect(sample(workerMetrics, 'flagship_flags_total{outcome="OK"}')).toBe(12);

    // Both flush their spans as they stop.
    expect(await stop(worker)).toBe(0);
    expect(await stop(api)).toBe(0);
    expect(exports.length).toBeGreaterThanOrEqual(2);
    expect(exports.every((exported) => exported.contentType === 'application/x-protobuf')).toBe(true);
    // Protobuf keeps strings as they are: the services and span names are readable in the bytes.
    const sent = Buffer.concat(exports.map((exported) => exported.body)).toString('latin1');
    for (const text of [
      'flagship-api',
      'flagship-worker',
      'POST /v1/downloads',
      'addFlow downloads',
      'process flags',
    ]) {
      expect(sent, text).toContain(text);
    }
    for (const text of ['download flag', 'save flag']) expect(sent, text).toContain(text);
    const summaryLine = worker.lines.find((line) => line.downloadId === status.id && line.msg === status.message);
    expect(summaryLine).toMatchObject({ jobId: status.id, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });
});
