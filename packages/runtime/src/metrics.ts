// @flagship/runtime/metrics: the Prometheus metrics every Flagship process exposes about
// itself (memory, CPU, open resources, event-loop delay), read when scraped, and the
// helper for counters whose running total lives elsewhere. Its own entry point, so only
// a process that serves metrics loads prom-client.
//
// Not prom-client's collectDefaultMetrics(): its GC observer and event-loop monitor run
// all the time and cost the echo service about 10% more CPU per round trip (bench/echo).
// Everything here is read from Node on each scrape; the one exception, the event-loop
// delay, is a libuv timer sampling into a native histogram, and only when asked for.
// Metric names follow prom-client's defaults where it has one, so Node.js dashboards work.
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ProcessMetricsOptions {
  /**
   * Report the event-loop delay since the last scrape (`nodejs_eventloop_delay_seconds`
   * with `stat` mean, p99 and max), sampled every `eventLoopResolutionMs` by
   * perf_hooks.monitorEventLoopDelay.
   * Default off: the echo does without it.
   */
  eventLoopDelay?: boolean;
  /** Default 20 ms. */
  eventLoopResolutionMs?: number;
}

export interface ProcessMetrics {
  /** Stops the event-loop delay sampling, if any. Safe twice. */
  stop(): void;
}

const NS_PER_SECOND = 1e9;

/**
 * Registers the process gauges on `registry`: `process_cpu_{user,system}_seconds_total`,
 * `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_start_time_seconds`,
 * `nodejs_heap_size_{used,total}_bytes`, `nodejs_external_memory_bytes`,
 * `nodejs_active_resources{type}` and, when asked for, the event-loop delay.
 */
export function registerProcessMetrics(registry: Registry, options: ProcessMetricsOptions = {}): ProcessMetrics {
  const registers = [registry];
  const cpuSeconds = (part: 'user' | 'system' | 'both') => {
    const usage = process.cpuUsage();
    return (part === 'user' ? usage.user : part === 'system' ? usage.system : usage.user + usage.system) / 1e6;
  };
  scrapedCounter(registry, 'process_cpu_user_seconds_total', 'User CPU time spent in seconds.', () =>
    cpuSeconds('user'),
  );
  scrapedCounter(registry, 'process_cpu_system_seconds_total', 'System CPU time spent in seconds.', () =>
    cpuSeconds('system'),
  );
  scrapedCounter(registry, 'process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', () =>
    cpuSeconds('both'),
  );
  scrapedGauge(registry, 'process_resident_memory_bytes', 'Resident memory size in bytes.', () =>
    process.memoryUsage.rss(),
  );
  // Whole seconds, rounded down: rounding up could put the start after "now" in a young process.
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds.',
    registers,
  }).set(Math.floor(Date.now() / 1000 - process.uptime()));
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'Process heap size used from Node.js in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: 'nodejs_heap_size_total_bytes',
    help: 'Process heap size from Node.js in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapTotal);
    },
  });
  new Gauge({
    name: 'nodejs_external_memory_bytes',
    help: 'Node.js external memory size in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().external);
    },
  });
  new Gauge({
    name: 'nodejs_active_resources',
    help: 'Resources keeping the event loop alive (sockets, timers, file handles), by type.',
    labelNames: ['type'] as const,
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
      for (const [type, count] of counts) this.set({ type }, count);
    },
  });

  const delay = options.eventLoopDelay ? startEventLoopDelay(registry, options.eventLoopResolutionMs ?? 20) : undefined;
  return { stop: () => delay?.disable() };
}

function startEventLoopDelay(registry: Registry, resolutionMs: number): ELDHistogram {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const seconds = (ns: number) => (Number.isFinite(ns) ? ns / NS_PER_SECOND : 0);
  new Gauge({
    name: 'nodejs_eventloop_delay_seconds',
    help: `Event-loop delay since the last scrape (sampled every ${resolutionMs} ms): mean, p99 and max.`,
    labelNames: ['stat'] as const,
    registers: [registry],
    collect() {
      this.set({ stat: 'mean' }, seconds(histogram.mean));
      this.set({ stat: 'p99' }, seconds(histogram.percentile(99)));
      this.set({ stat: 'max' }, seconds(histogram.max));
      histogram.reset();
    },
  });
  return histogram;
}

/**
 * The value of one series (`name` or `name{labels}`, as written) in a Prometheus text
 * exposition, or undefined when it is not there: for tests and the benchmarks.
 */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The `status_class` label of an HTTP status: `2xx`, `4xx`, ... (`other` outside 100–599). */
export function statusClass(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}

/** A gauge set from `read()` on each scrape. */
export function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * A counter whose running total is kept elsewhere (a plain number on a hot path, so no
 * metrics code runs there) and read on each scrape.
 */
export function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      // A counter cannot be set: start from zero and add the running total.
      this.reset();
      this.inc(read());
    },
  });
}
