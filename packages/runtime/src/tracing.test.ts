import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from './tracing.ts';
import { tracesUrl } from './tracing-sdk.ts';

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe('startTracing', () => {
  it('is off without an endpoint or an exporter', async () => {
    expect(await startTracing({ serviceName: 'test' })).toBeUndefined();
    expect(await startTracing({ serviceName: 'test', endpoint: '' })).toBeUndefined();
    expect(trace.getTracer('test').startSpan('nothing').isRecording()).toBe(false);
  });

  it('exports spans, names the service, and gives the trace id to log lines inside a span', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'flagship-test', exporter });
    const tracer = trace.getTracer('test');
    expect(tracing!.logFields()).toEqual({});
    const traceId = tracer.startActiveSpan('POST /things', { kind: SpanKind.SERVER }, (span) => {
      const fields = tracing!.logFields();
      tracer.startSpan('child').end();
      span.end();
      return fields.traceId;
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['child', 'POST /things']);
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(spans[0]!.resource.attributes['service.name']).toBe('flagship-test');
  });

  it('drops traces that start with an internal span (background loops), with their children', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'test', exporter });
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('getNextJob flags', (span) => {
      tracer.startSpan('child').end();
      expect(tracing!.logFields()).toEqual({});
      span.end();
    });
    tracer.startSpan('add downloads', { kind: SpanKind.PRODUCER }).end();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['add downloads']);
  });

  it('traces undici requests made inside a span and sends the trace context along', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'test', exporter, undici: true });
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      response.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/flag`;
    try {
      await (await fetch(url)).text(); // no active span: not traced
      const tracer = trace.getTracer('test');
      await tracer.startActiveSpan('process flags', { kind: SpanKind.CONSUMER }, async (span) => {
        await (await fetch(url)).text();
        span.end();
      });
    } finally {
      server.close();
    }
    const spans = exporter.getFinishedSpans();
    const get = spans.find((span) => span.kind === SpanKind.CLIENT);
    expect(spans).toHaveLength(2);
    expect(get?.name).toBe('GET');
    expect(get?.attributes['http.response.status_code']).toBe(200);
    expect(seen[0]?.traceparent).toBeUndefined();
    expect(seen[1]?.traceparent).toContain(get?.spanContext().traceId);
  });

  it('stops tracing on shutdown', async () => {
    const exporter = new InMemorySpanExporter();
    const started = await startTracing({ serviceName: 'test', exporter });
    await started!.shutdown();
    await started!.shutdown();
    trace.getTracer('test').startSpan('after', { kind: SpanKind.SERVER }).end();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('tracesUrl', () => {
  it.each([
    ['http://collector:4318', 'http://collector:4318/v1/traces'],
    ['http://collector:4318/', 'http://collector:4318/v1/traces'],
    ['https://otel.example/base', 'https://otel.example/base/v1/traces'],
  ])('%s → %s', (endpoint, url) => {
    expect(tracesUrl(endpoint)).toBe(url);
  });
});
