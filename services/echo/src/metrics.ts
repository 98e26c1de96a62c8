// Prometheus metrics of the echo service. The server keeps plain counters (no metrics
// library on the per-chunk path); these collectors read them on each scrape.
//
// Not prom-client's collectDefaultMetrics(): its GC observer and event-loop monitor
// run all the time, and cost about 10% more server CPU per 1 KiB round trip (measured,
// bench/echo). The process gauges below are read only when scraped.
import { Counter, Gauge, Registry } from 'prom-client';
import type { CloseReason, EchoStats } from './telemetry.ts';

export function createEchoMetrics(stats: Readonly<EchoStats>): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'Process heap size used from Node.js in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });

  new Gauge({
    name: 'echo_connections_open',
    help: 'Echo sessions open now',
    registers,
    collect() {
      this.set(stats.open);
    },
  });
  counterOf('echo_connections_total', 'Echo sessions accepted', () => stats.connectionsTotal);
  counterOf('echo_connections_refused_total', 'Connections closed at once: too many open', () => stats.refused);
  counterOf('echo_received_bytes_total', 'Bytes read from echo clients', () => stats.bytesIn);
  counterOf('echo_sent_bytes_total', 'Bytes echoed to clients', () => stats.bytesOut);
  new Counter({
    name: 'echo_connections_closed_total',
    help: 'Echo sessions closed, by reason',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(stats.closes) as [CloseReason, number][]) {
        this.inc({ reason }, count);
      }
    },
  });
  return registry;

  function counterOf(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers,
      collect() {
        // A counter cannot be set: start from zero and add the server's running total.
        this.reset();
        this.inc(read());
      },
    });
  }
}
