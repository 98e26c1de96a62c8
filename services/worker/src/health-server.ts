// A tiny HTTP health endpoint for the worker process, which otherwise has no port:
// container healthchecks and orchestrators ask `GET /healthz`. It answers 200 while the
// worker takes jobs and its Redis connection is up, 503 otherwise (Redis away, or
// shutting down), with the reason as JSON.
import { createServer, type Server } from 'node:http';

export interface HealthReport {
  ok: boolean;
  redis: string;
  accepting: boolean;
}

export function createHealthServer(report: () => HealthReport): Server {
  return createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/healthz') {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
      return;
    }
    const health = report();
    response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(health));
  });
}
