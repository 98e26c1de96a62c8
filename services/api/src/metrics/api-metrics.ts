// The API's Prometheus metrics: HTTP request durations by route and status class,
// downloads submitted, replayed, cancelled and retried, the depth of both queues by
// state (read when scraped, through a cached QueueDepthReader), and the process gauges.
// One registry per app (tests build many apps in one process), served at GET /metrics.
//
// The routes count downloads through `app.metrics` (plugins/observability.plugin.ts),
// where they know what a request did; the four counters are disjoint:
//   downloadsSubmitted  POST /v1/downloads that added a download
//   downloadsReplayed   POST /v1/downloads answered from its Idempotency-Key (nothing added)
//   downloadsCancelled  DELETE /v1/downloads/:id that cancelled it (not a repeat, not a 409)
//   downloadsRetried    POST /v1/downloads/:id/retry that added the retry download
import { registerProcessMetrics, statusClass } from '@flagship/runtime/metrics';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueDepthReader } from '../queues/queue-depth.ts';

/** A counter the routes increment. */
export interface CountOf {
  inc(): void;
}

/** What routes count; `app.metrics`. */
export interface DownloadCounters {
  readonly downloadsSubmitted: CountOf;
  readonly downloadsReplayed: CountOf;
  readonly downloadsCancelled: CountOf;
  readonly downloadsRetried: CountOf;
}

export interface ApiMetrics extends DownloadCounters {
  readonly registry: Registry;
  /** One HTTP response: its route template (undefined when no route matched), status and duration. */
  observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void;
  /** Stops the event-loop sampler and closes the queue depth reader. Safe twice. */
  close(): Promise<void>;
}

export interface ApiMetricsOptions {
  /** Queue depths for `flagship_queue_jobs`; without one, the metric is absent. */
  queueDepth?: QueueDepthReader;
  /** Process gauges (memory, CPU, event-loop delay). Default true; tests turn them off. */
  processMetrics?: boolean;
}

/** Seconds; from 1 ms (a status read) to the length of a long event stream. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Counters that count nothing: `app.metrics` when metrics are off. */
export const NO_DOWNLOAD_COUNTERS: DownloadCounters = Object.freeze({
  downloadsSubmitted: { inc() {} },
  downloadsReplayed: { inc() {} },
  downloadsCancelled: { inc() {} },
  downloadsRetried: { inc() {} },
});

export function createApiMetrics(options: ApiMetricsOptions = {}): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  const processGauges =
    options.processMetrics === false ? undefined : registerProcessMetrics(registry, { eventLoopDelay: true });

  const requestDuration = new Histogram({
    name: 'flagship_http_request_duration_seconds',
    help: 'HTTP requests served, by method, route template and status class (2xx, 4xx, ...), until the response ended',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const downloads = (what: string, help: string) =>
    new Counter({ name: `flagship_downloads_${what}_total`, help, registers });

  const queueDepth = options.queueDepth;
  if (queueDepth !== undefined) {
    let reading: Promise<void> = Promise.resolve();
    let failedScrapes = 0;
    new Gauge({
      name: 'flagship_queue_jobs',
      help: 'Jobs in each queue by state (downloads: one job per download; flags: one job per chunk), read when scraped',
      labelNames: ['queue', 'state'] as const,
      registers,
      collect() {
        this.reset();
        reading = queueDepth.read().then(
          (depth) => {
            for (const [queue, states] of Object.entries(depth)) {
              for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
            }
          },
          () => {
            failedScrapes += 1;
          },
        );
        return reading;
      },
    });
    // Registered after the gauge: a scrape collects both at once, the gauge first, and
    // this one waits for the gauge's read of the same scrape.
    new Counter({
      name: 'flagship_queue_depth_read_errors_total',
      help: 'Scrapes that reported no queue depths because Redis did not answer in time',
      registers,
      async collect() {
        await reading;
        this.reset();
        this.inc(failedScrapes);
      },
    });
  }

  return {
    registry,
    downloadsSubmitted: downloads('submitted', 'Downloads added by POST /v1/downloads (not replays, not retries)'),
    downloadsReplayed: downloads(
      'replayed',
      'POST /v1/downloads answered with the download its Idempotency-Key made before (nothing added)',
    ),
    downloadsCancelled: downloads('cancelled', 'Downloads cancelled (by the DELETE that cancelled each, not repeats)'),
    downloadsRetried: downloads('retried', 'Retry downloads added by POST /v1/downloads/:id/retry'),
    observeRequest(method, route, statusCode, seconds) {
      requestDuration.observe({ method, route: route ?? 'unmatched', status_class: statusClass(statusCode) }, seconds);
    },
    async close() {
      processGauges?.stop();
      await queueDepth?.close();
    },
  };
}
