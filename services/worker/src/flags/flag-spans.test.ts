import type { FlagStore } from '@flagship/common';
import { startTracing, type Tracing } from '@flagship/runtime/tracing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { traceFlagDownloads, traceStoreSaves } from './flag-spans.ts';

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe('flag spans', () => {
  it('put each flag and its save in a span under the job, with the outcome', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 'worker-test', exporter });
    const store = traceStoreSaves({ save: async () => 'written', open: async () => undefined } satisfies FlagStore);
    const downloadOne = traceFlagDownloads(async (code) => {
      if (code === 'BR') return { code, status: 'ERROR', reason: 'HTTP 500', attempts: 3 };
      await store.save(`${code}.gif`, new Uint8Array(7));
      return { code, status: 'OK', file: `${code}.gif`, bytes: 7, attempts: 1 };
    });
    const signal = new AbortController().signal;
    await trace.getTracer('test').startActiveSpan('process flags', { kind: SpanKind.CONSUMER }, async (job) => {
      await downloadOne('CN', signal);
      await downloadOne('BR', signal);
      job.end();
    });

    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.filter((span) => span.name === name);
    const [job] = byName('process flags');
    const [cn, br] = byName('download flag');
    const [save] = byName('save flag');
    expect(cn?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId);
    expect(save?.parentSpanContext?.spanId).toBe(cn?.spanContext().spanId);
    expect(cn?.attributes).toMatchObject({ 'flagship.flag.code': 'CN', 'flagship.flag.status': 'OK' });
    expect(save?.attributes).toMatchObject({
      'flagship.file': 'CN.gif',
      'flagship.bytes': 7,
      'flagship.save.result': 'written',
    });
    expect(br?.status.code).toBe(SpanStatusCode.ERROR);
  });
});
