// Test support (no tests here): an in-process origin on 127.0.0.1:0 whose behaviour a
// test sets per request, a record of what it was asked, a whole tiny GIF, a dispatcher
// with short timeouts, and a testbed that sets them up per test, for the downloadFlag
// tests.
import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalFlagStore, type FlagStore } from '@flagship/common';
import type { Agent } from 'undici';
import { afterEach, beforeEach } from 'vitest';
import type { DownloadFlagDeps } from './download-flag.ts';
import { createOriginDispatcher, type OriginDispatcherOptions } from './origin-dispatcher.ts';

/** A whole 1×1 GIF89a (header, screen descriptor, colour table, one image, trailer). */
export const TINY_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** performance.now() when it arrived. */
  at: number;
}

export interface TestOrigin {
  /** `http://127.0.0.1:PORT` (https:// with `tls`). */
  root: string;
  /** `{root}/data/flags`, the ORIGIN_URL. */
  url: string;
  port: number;
  /** What answers the next requests; replace it in a test. */
  handler: Handler;
  requests: SeenRequest[];
  /** Requests for one path so far. */
  hits(path: string): number;
  /** Resolves when the origin has been asked for `path` `count` times in all. */
  asked(path: string, count?: number): Promise<SeenRequest>;
  close(): Promise<void>;
}

export async function startTestOrigin(options: { tls?: { key: string; cert: string } } = {}): Promise<TestOrigin> {
  const requests: SeenRequest[] = [];
  const waiters: Array<() => void> = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ path: req.url ?? '', headers: req.headers, at: performance.now() });
    waiters.splice(0).forEach((wake) => wake());
    origin.handler(req, res);
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const root = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const origin: TestOrigin = {
    root,
    url: `${root}/data/flags`,
    port,
    handler: (_req, res) => res.writeHead(404).end(),
    requests,
    hits: (path) => requests.filter((seen) => seen.path === path).length,
    asked(path, count = 1) {
      return new Promise((resolve) => {
        const check = () => {
          const seen = requests.filter((r) => r.path === path);
          if (seen.length >= count) resolve(seen[count - 1] as SeenRequest);
          else waiters.push(check);
        };
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return origin;
}

/** Serves `country` in metadata.json and `gif` for every code. */
export function serveFlag(country: string, gif: Uint8Array = TINY_GIF): Handler {
  return (req, res) => {
    if (req.url?.endsWith('.gif')) res.writeHead(200, { 'content-type': 'image/gif' }).end(gif);
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ country }));
  };
}

/** The worker's dispatcher with test-sized timeouts and a 4 KiB body cap. */
export function testDispatcher(overrides: Partial<OriginDispatcherOptions> = {}): Agent {
  return createOriginDispatcher({
    connections: 8,
    connectTimeoutMs: 1_000,
    headersTimeoutMs: 2_000,
    bodyTimeoutMs: 2_000,
    maxResponseBytes: 4_096,
    ...overrides,
  });
}

export interface FlagTestbed {
  origin: TestOrigin;
  /** The dispatcher of `deps()`; a test may replace it (destroy the old one first). */
  dispatcher: Agent;
  folder: string;
  /** A local store on `folder`; a test may wrap it. */
  store: FlagStore;
  /** Deps for downloadFlag on this origin: 3 attempts, 1 ms backoff, a 5 s deadline. */
  deps(overrides?: Partial<DownloadFlagDeps>): DownloadFlagDeps;
}

/**
 * Registers beforeEach/afterEach hooks that give each test a fresh origin serving
 * `country`, a dispatcher and an empty store folder, and close them after it.
 */
export function useFlagTestbed(country: string): FlagTestbed {
  const bed = {
    deps: (overrides = {}) => ({
      dispatcher: bed.dispatcher,
      originUrl: bed.origin.url,
      store: bed.store,
      attempts: 3,
      retryBaseDelayMs: 1,
      deadlineMs: 5_000,
      ...overrides,
    }),
  } as FlagTestbed;
  beforeEach(async () => {
    bed.origin = await startTestOrigin();
    bed.origin.handler = serveFlag(country);
    bed.dispatcher = testDispatcher();
    bed.folder = await mkdtemp(path.join(tmpdir(), 'flagship-flag-test-'));
    bed.store = createLocalFlagStore(bed.folder);
  });
  afterEach(async () => {
    await bed.origin.close();
    await bed.dispatcher.destroy();
    await rm(bed.folder, { recursive: true, force: true });
  });
  return bed;
}
