// Prometheus metrics of the echo service. The server keeps plain counters (no metrics
// library on the per-chunk path); these collectors read them on each scrape.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CloseReason, EchoStats } from './echo-server.ts';

export function createEchoMetrics(stats: Readonly<EchoStats>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry }); // process memory, CPU, event loop lag, fds
  const registers = [registry];

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
