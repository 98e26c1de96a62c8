// BullMQ's `telemetry` option over OpenTelemetry (bullmq-otel), for the API's Queue and
// FlowProducer and the worker's Workers when tracing is on. An enqueue opens a PRODUCER
// span and stores its trace context in the job's options; the worker's `process` span
// continues that trace, so one download is one trace from the API request to the last
// chunk. Imported on demand: a process without tracing never loads bullmq-otel.
import type { Telemetry } from 'bullmq';

/** The tracer name of Flagship's queue spans. */
export const QUEUE_TRACER_NAME = 'flagship';

/** Call after tracing has started (it binds to the global tracer provider). */
export async function createQueueTelemetry(): Promise<Telemetry> {
  const { BullMQOtel } = await import('bullmq-otel');
  return new BullMQOtel({ tracerName: QUEUE_TRACER_NAME });
}
