// A tiny HTTP endpoint for the worker process, which otherwise has no port: container
// healthchecks and orchestrators ask `GET /healthz`, Prometheus asks `GET /metrics`.
// /healthz answers 200 while the worker takes jobs and its Redis connection is up, 503
// otherwise (Redis away, or shutting down), with the reason as JSON. /metrics is there
// when the worker measures (METRICS_ENABLED, the default).
import { createServer, type ServerResponse, type Server } from 'node:http';

export interface HealthReport {
  ok: boolean;
  redis: string;
  accepting: boolean;
}

/** What /metrics serves: a prom-client Registry. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export function createHealthServer(report: () => HealthReport, metrics?: MetricsSource): Server {
  return createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics' && metrics !== undefined) {
      metrics.metrics().then(
        (text) => send(response, 200, metrics.contentType, text),
        (error: unknown) => send(response, 500, 'text/plain; charset=utf-8', `metrics failed: ${String(error)}\n`),
      );
      return;
    }
    if (request.method !== 'GET' || request.url !== '/healthz') {
      send(
        response,
        404,
        'application/problem+json',
        JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }),
      );
      return;
    }
    const health = report();
    response.setHeader('cache-control', 'no-store');
    send(response, health.ok ? 200 : 503, 'application/json', JSON.stringify(health));
  });
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType });
  response.end(body);
}
