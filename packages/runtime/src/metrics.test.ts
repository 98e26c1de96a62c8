import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  metricSample as sample,
  registerProcessMetrics,
  scrapedCounter,
  scrapedGauge,
  statusClass,
} from './metrics.ts';

describe('process metrics', () => {
  it('reads memory, CPU and open resources when scraped', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const text = await registry.metrics();
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(
      sample(text, 'nodejs_heap_size_used_bytes')!,
    );
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toMatch(/^nodejs_active_resources\{type="[A-Za-z]+"\} \d+$/m);
    // Off unless asked for: no sampling timer.
    expect(text).not.toContain('nodejs_eventloop_delay_seconds');
  });

  it('reports the event-loop delay since the last scrape when asked', async () => {
    const registry = new Registry();
    const metrics = registerProcessMetrics(registry, { eventLoopDelay: true, eventLoopResolutionMs: 10 });
    try {
      const text = await registry.metrics();
      for (const stat of ['mean', 'p99', 'max']) {
        expect(sample(text, `nodejs_eventloop_delay_seconds{stat="${stat}"}`)).toBeGreaterThanOrEqual(0);
      }
    } finally {
      metrics.stop();
      metrics.stop();
    }
  });
});

describe('scraped counters and gauges', () => {
  it('report a running total kept elsewhere, once per scrape', async () => {
    const registry = new Registry();
    const stats = { total: 3, open: 1 };
    scrapedCounter(registry, 'things_total', 'Things', () => stats.total);
    scrapedGauge(registry, 'things_open', 'Open things', () => stats.open);
    expect(sample(await registry.metrics(), 'things_total')).toBe(3);
    stats.total = 5;
    stats.open = 0;
    const text = await registry.metrics();
    expect(sample(text, 'things_total')).toBe(5);
    expect(sample(text, 'things_open')).toBe(0);
  });
});

describe('statusClass', () => {
  it.each([
    [200, '2xx'],
    [304, '3xx'],
    [404, '4xx'],
    [503, '5xx'],
    [99, 'other'],
  ])('%i is %s', (code, label) => expect(statusClass(code)).toBe(label));
});
