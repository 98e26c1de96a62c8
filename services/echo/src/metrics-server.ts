// A small HTTP server beside the echo port: GET /metrics (Prometheus text format) and
// GET /healthz (200 while the echo server accepts connections, for compose healthchecks).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '@flagship/runtime';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  registry: Registry;
  /** Answered by /healthz: 200 when true, 503 when false. */
  isReady: () => boolean;
  port: number;
  host: string;
  logger?: Logger;
}

export interface MetricsServer {
  listen(): Promise<AddressInfo>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export function createMetricsServer(options: MetricsServerOptions): MetricsServer {
  const logger = options.logger ?? silentLogger();
  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'metrics request failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  let closing: Promise<void> | undefined;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') {
      send(response, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
    } else if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    } else if (path === '/healthz') {
      const ready = options.isReady();
      send(response, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ok' : 'closing' }));
    } else {
      send(response, 200, options.registry.contentType, await options.registry.metrics());
    }
  }

  function listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port, host: options.host }, () => {
        server.off('error', reject);
        const address = server.address() as AddressInfo;
        logger.info({ address: address.address, port: address.port }, 'metrics listening');
        resolve(address);
      });
    });
  }

  function close(): Promise<void> {
    closing ??= new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // keep-alive scrapers would hold close() open
    });
    return closing;
  }

  return { listen, close };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
