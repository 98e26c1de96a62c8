// A fake Flagship API for the CLI's tests: node:http on 127.0.0.1, port 0, routed by
// `METHOD /path`, recording every request. Every JSON body and event it sends is
// first checked against the public API's shapes (@flagship/common's HttpContracts),
// the ones the CLI checks what it reads with, so a fixture cannot drift from the API.
// Fixtures below are typed with the same shapes.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  HttpContracts,
  PROBLEM_CONTENT_TYPE,
  type DownloadAccepted,
  type DownloadEvent,
  type DownloadList,
  type DownloadListItem,
  type DownloadProgress,
  type DownloadStatus,
  type FlagOutcome,
  type Problem,
} from '@flagship/common';
import { afterEach } from 'vitest';

export interface FakeRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type FakeRoute = (request: FakeRequest, response: ServerResponse) => void | Promise<void>;

export interface FakeApi {
  url: string;
  requests: FakeRequest[];
  /** Resolves with the next request to `METHOD /path` (or the one already made and not yet awaited). */
  nextRequest(route: string): Promise<FakeRequest>;
  close(): Promise<void>;
}

/** Starts the fake with `routes` keyed `GET /v1/downloads/<id>`; anything else is a 404 problem. */
export async function startFakeApi(routes: Record<string, FakeRoute>): Promise<FakeApi> {
  const requests: FakeRequest[] = [];
  const waiters: { route: string; resolve: (request: FakeRequest) => void }[] = [];
  const delivered = new Set<FakeRequest>();
  const server = createServer(async (incoming, response) => {
    const url = new URL(incoming.url ?? '/', 'http://fake');
    let text = '';
    for await (const chunk of incoming) text += String(chunk);
    const request: FakeRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    };
    requests.push(request);
    const key = `${request.method} ${request.path}`;
    for (const waiter of waiters.filter((candidate) => candidate.route === key)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      delivered.add(request);
      waiter.resolve(request);
    }
    const route = routes[key];
    if (route === undefined) sendProblem(response, 404, 'Not Found', `no route ${key}`);
    else await route(request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    nextRequest: (route) =>
      new Promise((resolve) => {
        const made = requests.find((r) => `${r.method} ${r.path}` === route && !delivered.has(r));
        if (made === undefined) return waiters.push({ route, resolve });
        delivered.add(made);
        resolve(made);
      }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** For a test file: starts fake APIs, each closed after the test that started it. */
export function useFakeApi(): (routes: Record<string, FakeRoute>) => Promise<FakeApi> {
  const started: FakeApi[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((api) => api.close()));
  });
  return async (routes) => {
    const api = await startFakeApi(routes);
    started.push(api);
    return api;
  };
}

/** A JSON answer, checked against its shape first. */
export function sendJson<T>(
  response: ServerResponse,
  status: number,
  shape: { parse(value: unknown): T },
  body: T,
): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(shape.parse(body)));
}

/** An application/problem+json answer, as the API's errors are. */
export function sendProblem(response: ServerResponse, status: number, title: string, detail: string): void {
  const problem: Problem = {
    type: `urn:flagship:problem:${title.toLowerCase().replaceAll(' ', '-')}`,
    title,
    status,
    detail,
    instance: '/v1/downloads',
    code: `FLAGSHIP_${title.toUpperCase().replaceAll(' ', '_')}`,
  };
  response.writeHead(status, { 'content-type': PROBLEM_CONTENT_TYPE });
  response.end(JSON.stringify(HttpContracts.problem.parse(problem)));
}

export interface FakeEventStream {
  /** Sends one event (checked against DownloadEvent), with an `id:` when given. */
  send(event: DownloadEvent, id?: string): void;
  end(): void;
}

/** Starts a text/event-stream answer. */
export function openEventStream(response: ServerResponse): FakeEventStream {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(': hello\n\n');
  return {
    send: (event, id) => {
      const { data } = HttpContracts.downloadEvent.parse(event);
      response.write(
        `${id === undefined ? '' : `id: ${id}\n`}event: ${event.event}\ndata: ${JSON.stringify(data)}\n\n`,
      );
    },
    end: () => response.end(),
  };
}

/** A route that streams these events, with ids 1, 2, ..., then ends (or holds the stream open). */
export function streamOf(events: readonly DownloadEvent[], options: { hold?: boolean } = {}): FakeRoute {
  return (_request, response) => {
    const stream = openEventStream(response);
    events.forEach((event, index) => stream.send(event, String(index + 1)));
    if (options.hold !== true) stream.end();
  };
}

// Fixtures: one download of CN and IN.

export const ID = '3b241101-e2bb-4255-8caf-4136c566a962';
export const RETRY_ID = '6f1c2a5e-8d7b-4c3a-9e21-0a4b5c6d7e8f';
export const PATHS = {
  downloads: '/v1/downloads',
  self: `/v1/downloads/${ID}`,
  events: `/v1/downloads/${ID}/events`,
  retry: `/v1/downloads/${ID}/retry`,
};

export function linksOf(id: string): DownloadStatus['links'] {
  return { self: `/v1/downloads/${id}`, events: `/v1/downloads/${id}/events` };
}

export const CHINA: FlagOutcome = { code: 'CN', status: 'OK', country: 'China', file: 'CN_China.gif', attempts: 1 };
export const INDIA: FlagOutcome = { code: 'IN', status: 'OK', country: 'India', file: 'IN_India.gif', attempts: 1 };
export const INDIA_FAILED: FlagOutcome = {
  code: 'IN',
  status: 'ERROR',
  reason: 'gave up after 3 attempts: HTTP 503',
  attempts: 3,
};
export const INDIA_NOT_FOUND: FlagOutcome = { code: 'IN', status: 'NOT_FOUND', reason: 'HTTP 404', attempts: 1 };

export function accepted(overrides: Partial<DownloadAccepted> = {}): DownloadAccepted {
  const id = overrides.id ?? ID;
  return { id, state: 'queued', total: 2, links: linksOf(id), ...overrides };
}

export function status(overrides: Partial<DownloadStatus> = {}): DownloadStatus {
  const id = overrides.id ?? ID;
  return {
    id,
    state: 'running',
    total: 2,
    done: 0,
    saved: 0,
    notFound: 0,
    failed: 0,
    elapsedSeconds: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    files: [],
    outcomes: [],
    links: linksOf(id),
    ...overrides,
  };
}

/** The status of a download of CN and IN that ended: IN as given. */
export function finished(india: FlagOutcome = INDIA, overrides: Partial<DownloadStatus> = {}): DownloadStatus {
  const outcomes = [CHINA, india];
  const saved = outcomes.filter((o) => o.status === 'OK').length;
  const failed = outcomes.filter((o) => o.status === 'ERROR').length;
  return status({
    state: 'completed',
    done: 2,
    saved,
    notFound: outcomes.filter((o) => o.status === 'NOT_FOUND').length,
    failed,
    elapsedSeconds: 0.04,
    finishedAt: '2026-01-01T00:00:00.040Z',
    files: outcomes.flatMap((o) => (o.file === undefined ? [] : [o.file])),
    outcomes,
    message:
      saved === 2
        ? '2 flags downloaded in 0.04s'
        : `${saved} flag downloaded in 0.04s${failed > 0 ? ' (1 failed)' : ''}`,
    ...overrides,
  });
}

export const PROGRESS_CHINA: DownloadProgress = {
  done: 1,
  total: 2,
  saved: 1,
  notFound: 0,
  failed: 0,
  outcomes: [CHINA],
};

/** The whole stream of a download of CN and IN: status, CN saved, then `final`. */
export function downloadEvents(final: DownloadEvent = { event: 'completed', data: finished() }): DownloadEvent[] {
  return [{ event: 'status', data: status() }, { event: 'progress', data: PROGRESS_CHINA }, final];
}

/** A download that failed as a whole after CN was saved. */
export const FAILED: DownloadStatus = status({
  state: 'failed',
  done: 1,
  saved: 1,
  elapsedSeconds: 0.5,
  finishedAt: '2026-01-01T00:00:00.500Z',
  files: ['CN_China.gif'],
  outcomes: [CHINA],
  message: 'download failed: ENOSPC: no space left on device',
  failedReason: 'ENOSPC: no space left on device',
});

/** A download cancelled after CN was saved. */
export const CANCELLED: DownloadStatus = status({
  state: 'cancelled',
  done: 1,
  saved: 1,
  elapsedSeconds: 0.3,
  finishedAt: '2026-01-01T00:00:00.300Z',
  files: ['CN_China.gif'],
  outcomes: [CHINA],
});

export function listItem(overrides: Partial<DownloadListItem> = {}): DownloadListItem {
  const id = overrides.id ?? ID;
  return {
    id,
    state: 'completed',
    total: 20,
    done: 20,
    saved: 19,
    notFound: 1,
    failed: 0,
    createdAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:00:01.250Z',
    links: linksOf(id),
    ...overrides,
  };
}

export function list(items: DownloadListItem[], nextCursor: string | null = null): DownloadList {
  return { items, nextCursor };
}
