import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { createHealthServer, type HealthReport, type MetricsSource } from './health-server.ts';

let server: ReturnType<typeof createHealthServer> | undefined;

afterEach(async () => {
  server?.close();
  server = undefined;
});

async function start(report: () => HealthReport, metrics?: MetricsSource): Promise<string> {
  server = createHealthServer(report, metrics);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('worker health server', () => {
  it('answers 200 with the report while healthy', async () => {
    const url = await start(() => ({ ok: true, redis: 'ready', accepting: true }));
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, redis: 'ready', accepting: true });
  });

  it('answers 503 when Redis is away or the worker is stopping', async () => {
    const url = await start(() => ({ ok: false, redis: 'reconnecting', accepting: true }));
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ redis: 'reconnecting' });
  });

  it('serves the metrics at /metrics when given a registry', async () => {
    const registry = new Registry();
    new Counter({ name: 'flagship_test_total', help: 'test', registers: [registry] }).inc(2);
    const url = await start(() => ({ ok: false, redis: 'reconnecting', accepting: true }), registry);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(await response.text()).toContain('flagship_test_total 2');
  });

  it('answers 404 problem for anything else', async () => {
    const url = await start(() => ({ ok: true, redis: 'ready', accepting: true }));
    for (const path of ['/', '/healthz/../etc', '/metrics']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(404);
  });
});
