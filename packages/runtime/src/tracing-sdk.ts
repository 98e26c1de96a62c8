// The OpenTelemetry SDK as Flagship sets it up, loaded by tracing.ts only when tracing
// is on: W3C trace context, AsyncLocalStorage for the active span, a tracer provider
// exporting over OTLP/HTTP (protobuf) in batches, and, when asked, undici's requests
// through its diagnostics channels (@opentelemetry/instrumentation-undici).
//
// A trace starts where work for a user starts: an HTTP request (SERVER), an enqueue
// (PRODUCER) or a job whose producer was not traced (CONSUMER). Root spans of other
// kinds are dropped with everything under them: BullMQ's background loops (the
// blocking fetch of the next job, the stalled-job check) open an INTERNAL span every
// few seconds, which would otherwise be one more one-span trace each time.
import { SpanKind, TraceFlags, context, propagation, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TracerProvider,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { once } from './shutdown.ts';
import type { Tracing, TracingOptions } from './tracing.ts';

/** Roots kept: requests, enqueues and untraced jobs. */
export const workRootSampler: Sampler = {
  shouldSample(_context: Context, _traceId: string, _name: string, kind: SpanKind): SamplingResult {
    return { decision: kind === SpanKind.INTERNAL ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED };
  },
  toString: () => 'WorkRootSampler',
};

/** `{endpoint}/v1/traces`, as the OTLP exporter specification builds it from OTEL_EXPORTER_OTLP_ENDPOINT. */
export function tracesUrl(endpoint: string): string {
  return new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).href;
}

export function startTracingSdk(options: TracingOptions): Tracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const processor =
    options.exporter !== undefined
      ? new SimpleSpanProcessor({ exporter: options.exporter })
      : new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl(options.endpoint ?? '') }) });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: workRootSampler }),
    spanProcessors: [processor],
  });
  trace.setGlobalTracerProvider(provider);
  // Only requests made under a span: nothing outside a job's work is traced.
  const undici = options.undici ? new UndiciInstrumentation({ requireParentforSpans: true }) : undefined;

  return {
    logFields(): Record<string, string> {
      const span = trace.getActiveSpan()?.spanContext();
      return span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0 ? { traceId: span.traceId } : {};
    },
    shutdown: once(async () => {
      undici?.disable();
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    }),
  };
}
