// @flagship/runtime/tracing: OpenTelemetry tracing for a Flagship process, on only when
// an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT, read by each service's
// config.ts) or a test hands in its own exporter. Off, this module is all that is
// loaded: the SDK (tracing-sdk.ts) is imported on demand, so a process without tracing
// pays nothing for it, and the @opentelemetry/api calls elsewhere stay no-ops.
import type { SpanExporter } from '@opentelemetry/sdk-trace';

export interface TracingOptions {
  /** `service.name` of every span. */
  serviceName: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `{endpoint}/v1/traces` as protobuf. */
  endpoint?: string | undefined;
  /** Export here instead, each span as it ends (tests: an InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** Trace outgoing undici requests made inside a traced operation (the worker's origin GETs). */
  undici?: boolean;
}

export interface Tracing {
  /** `{ traceId }` of the active sampled span, else `{}`: the logger's mixin. */
  logFields(): Record<string, string>;
  /** Export what is pending, then stop tracing and unregister the global SDK. Safe twice. */
  shutdown(): Promise<void>;
}

/** Starts tracing, or returns undefined (and loads nothing) when neither an endpoint nor an exporter is given. */
export async function startTracing(options: TracingOptions): Promise<Tracing | undefined> {
  if (!options.endpoint && options.exporter === undefined) return undefined;
  const { startTracingSdk } = await import('./tracing-sdk.ts');
  return startTracingSdk(options);
}
