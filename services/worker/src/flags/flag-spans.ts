// Spans of one flag when tracing is on, wrapped around the per-flag code rather than
// written into it: `download flag` around each flag (its origin GETs, traced by the
// undici instrumentation, and its save fall under it) and `save flag` around each
// store write. Inside a chunk job's `process` span, so a download's trace shows every
// flag, request and file. Applied by flag-worker.ts only when it has BullMQ telemetry.
import type { FlagOutcome, FlagStore } from '@flagship/common';
import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('flagship-worker');

/** `work` inside an active span named `name`; an exception is recorded and rethrown. */
async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  describe: (span: Span, value: T) => void,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      const value = await work();
      describe(span, value);
      return value;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

export type DownloadOne = (code: string, signal: AbortSignal) => Promise<FlagOutcome>;

export function traceFlagDownloads(downloadOne: DownloadOne): DownloadOne {
  return (code, signal) =>
    inSpan(
      'download flag',
      { 'flagship.flag.code': code },
      () => downloadOne(code, signal),
      (span, outcome) => {
        span.setAttributes({
          'flagship.flag.status': outcome.status,
          'flagship.flag.attempts': outcome.attempts,
          // A conditional GET answered 304: nothing downloaded, nothing saved.
          ...(outcome.status === 'OK' && outcome.unchanged === true ? { 'flagship.flag.unchanged': true } : {}),
        });
        if (outcome.status === 'ERROR') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason ?? '' });
      },
    );
}

export function traceStoreSaves(store: FlagStore): FlagStore {
  return {
    ...store,
    save: (fileName, bytes) =>
      inSpan(
        'save flag',
        { 'flagship.file': fileName, 'flagship.bytes': bytes.byteLength },
        () => store.save(fileName, bytes),
        (span, result) => span.setAttribute('flagship.save.result', result),
      ),
  };
}
