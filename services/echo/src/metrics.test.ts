import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { metricSample as sample } from '@flagship/runtime/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoServer, type EchoServer } from './echo-server.ts';
import { createEchoMetrics } from './metrics.ts';
import { createMetricsServer, type MetricsServer } from './metrics-server.ts';
import { connect, readToEnd } from './test-support.ts';

const closers: (EchoServer | MetricsServer)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((closer) => closer.close()));
});

describe('echo metrics', () => {
  it('reports connections, refusals, bytes and closes by reason in Prometheus text format', async () => {
    const echo = createEchoServer({ port: 0, maxConnections: 1 });
    closers.push(echo);
    const { port } = await echo.listen();
    const registry = createEchoMetrics(echo.stats);

    const first = await connect(port);
    const refused = once(echo.events, 'refused');
    const second = await connect(port);
    await refused;
    second.destroy();
    const sent = randomBytes(1000);
    const received = readToEnd(first);
    const closed = once(echo.events, 'session-close');
    first.end(Buffer.concat([sent, Buffer.from('\nexit\n')]));
    await received;
    await closed;

    const text = await registry.metrics();
    expect(sample(text, 'echo_connections_open')).toBe(0);
    expect(sample(text, 'echo_connections_total')).toBe(1);
    expect(sample(text, 'echo_connections_refused_total')).toBe(1);
    expect(sample(text, 'echo_received_bytes_total')).toBe(1006);
    expect(sample(text, 'echo_sent_bytes_total')).toBe(1006);
    expect(sample(text, 'echo_connections_closed_total{reason="exit"}')).toBe(1);
    expect(sample(text, 'echo_connections_closed_total{reason="idle-timeout"}')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE echo_connections_total counter');
    // Scraping twice does not add the totals twice.
    expect(sample(await registry.metrics(), 'echo_connections_total')).toBe(1);
  });
});

describe('metrics server', () => {
  async function startMetrics(isReady: () => boolean) {
    const echo = createEchoServer({ port: 0 });
    const server = createMetricsServer({
      registry: createEchoMetrics(echo.stats),
      isReady,
      port: 0,
      host: '127.0.0.1',
    });
    closers.push(server);
    const { port } = await server.listen();
    return `http://127.0.0.1:${port}`;
  }

  it('serves /metrics and /healthz', async () => {
    let ready = true;
    const base = await startMetrics(() => ready);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('echo_connections_open 0');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    ready = false;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'closing' });
  });

  it.each([
    ['GET', '/nope', 404],
    ['GET', '/metrics/../etc/passwd', 404],
    ['POST', '/metrics', 405],
    ['DELETE', '/healthz', 405],
  ])('answers %s %s with %i', async (method, path, status) => {
    const base = await startMetrics(() => true);
    const response = await fetch(`${base}${path}`, { method });
    expect(response.status).toBe(status);
    await response.text();
  });
});
