// `flagship download` against a small fake API on 127.0.0.1 (port 0) whose answers are
// built from the public API's shapes (@flagship/common), as the CLI checks them: submit,
// then an event stream of status, progress and completed (or failed).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  PROBLEM_CONTENT_TYPE,
  type DownloadAccepted,
  type DownloadEvent,
  type DownloadStatus,
  type FlagOutcome,
  type Problem,
} from '@flagship/common';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { fakeIO } from '../test-support.ts';

let server: Server | undefined;
let posted: unknown[] = [];

afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
  posted = [];
});

const ID = '3b241101-e2bb-4255-8caf-4136c566a962';
const LINKS = { self: `/v1/downloads/${ID}`, events: `/v1/downloads/${ID}/events` };
const CHINA: FlagOutcome = { code: 'CN', status: 'OK', country: 'China', file: 'CN_China.gif', attempts: 1 };
const INDIA: FlagOutcome = { code: 'IN', status: 'OK', country: 'India', file: 'IN_India.gif', attempts: 1 };
const INDIA_FAILED: FlagOutcome = {
  code: 'IN',
  status: 'ERROR',
  reason: 'gave up after 3 attempts: HTTP 503',
  attempts: 3,
};

function status(overrides: Partial<DownloadStatus> = {}): DownloadStatus {
  return {
    id: ID,
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
    links: LINKS,
    ...overrides,
  };
}

function completed(failed: number): DownloadEvent {
  const outcomes = [CHINA, failed > 0 ? INDIA_FAILED : INDIA];
  const data = status({
    state: 'completed',
    done: 2,
    saved: 2 - failed,
    failed,
    elapsedSeconds: 0.04,
    finishedAt: '2026-01-01T00:00:00.040Z',
    files: outcomes.flatMap((o) => (o.file === undefined ? [] : [o.file])),
    outcomes,
    message: failed > 0 ? '1 flag downloaded in 0.04s (1 failed)' : '2 flags downloaded in 0.04s',
  });
  return { event: 'completed', data };
}

const FAILED: DownloadEvent = {
  event: 'failed',
  data: status({
    state: 'failed',
    done: 1,
    saved: 1,
    elapsedSeconds: 0.5,
    finishedAt: '2026-01-01T00:00:00.500Z',
    files: ['CN_China.gif'],
    outcomes: [CHINA],
    message: 'download failed: ENOSPC: no space left on device',
    failedReason: 'ENOSPC: no space left on device',
  }),
};

async function body(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text === '' ? undefined : JSON.parse(text);
}

interface FakeApiOptions {
  /** The stream's last event; default: completed with no flag failed. */
  final?: DownloadEvent | { event: string; data: unknown };
  /** Refuse the download with this status. */
  refuse?: number;
}

async function fakeApi(options: FakeApiOptions = {}): Promise<string> {
  server = createServer(async (request, response) => {
    if (request.method === 'POST' && request.url === '/v1/downloads') {
      posted.push(await body(request));
      if (options.refuse !== undefined) {
        const problem: Problem = {
          type: 'urn:flagship:problem:invalid-request',
          title: 'Invalid request',
          status: options.refuse,
          detail: 'unknown country code(s): "ZZ"',
          instance: '/v1/downloads',
          code: 'FLAGSHIP_INVALID_REQUEST',
        };
        response.writeHead(options.refuse, { 'content-type': PROBLEM_CONTENT_TYPE });
        response.end(JSON.stringify(problem));
        return;
      }
      const accepted: DownloadAccepted = { id: ID, state: 'queued', total: 2, links: LINKS };
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify(accepted));
      return;
    }
    if (request.url === LINKS.events) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = ({ event, data }: { event: string; data: unknown }) =>
        response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send({ event: 'status', data: status() });
      send({ event: 'progress', data: { done: 1, total: 2, saved: 1, notFound: 0, failed: 0, outcomes: [CHINA] } });
      send(options.final ?? completed(0));
      response.end();
      return;
    }
    response.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('flagship download', () => {
  it('submits, prints each country as it is saved and the report line, exit 0', async () => {
    const api = await fakeApi();
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'cn', 'in'], io)).toBe(0);
    expect(posted).toEqual([{ codes: ['cn', 'in'] }]);
    expect(io.out().toString()).toBe('China\nIndia\n\n2 flags downloaded in 0.04s\n');
  });

  it('asks for the default download with no codes, and for every country with --all', async () => {
    const api = await fakeApi();
    expect(await runCli(['download', '--api', api], fakeIO())).toBe(0);
    expect(await runCli(['download', '--api', api, '--all'], fakeIO())).toBe(0);
    expect(posted).toEqual([{}, { all: true }]);
  });

  it('draws a progress bar on a terminal', async () => {
    const api = await fakeApi();
    const io = fakeIO();
    io.stdout.isTTY = true;
    expect(await runCli(['download', '--api', api], io)).toBe(0);
    expect(io.out().toString()).toContain('\r[###############---------------] 1/2');
    expect(io.out().toString()).toContain('\r[##############################] 2/2\n');
  });

  it('exits 1 and lists the reasons when flags failed', async () => {
    const api = await fakeApi({ final: completed(1) });
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'CN', 'IN'], io)).toBe(1);
    expect(io.out().toString()).toContain('1 flag downloaded in 0.04s (1 failed)');
    expect(io.err()).toContain('IN: gave up after 3 attempts: HTTP 503');
  });

  it('prints why the download failed as a whole, exit 1', async () => {
    const api = await fakeApi({ final: FAILED });
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'CN', 'IN'], io)).toBe(1);
    expect(io.out().toString()).toBe('China\n');
    expect(io.err()).toBe('flagship download: the download failed: ENOSPC: no space left on device\n');
  });

  it('says so when an event breaks the shared schema, exit 1', async () => {
    const api = await fakeApi({ final: { event: 'completed', data: { state: 'completed', total: 'two' } } });
    const io = fakeIO();
    expect(await runCli(['download', '--api', api], io)).toBe(1);
    expect(io.err()).toContain(`did not understand the event stream of ${ID}: invalid download event`);
  });

  it('prints the id and returns at once with --no-follow', async () => {
    const api = await fakeApi();
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, '--no-follow'], io)).toBe(0);
    expect(io.out().toString()).toBe(`${ID}\n`);
  });

  it("shows the API's problem detail when it refuses, exit 1", async () => {
    const api = await fakeApi({ refuse: 400 });
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'CN'], io)).toBe(1);
    expect(io.err()).toContain('the API refused the download: unknown country code(s): "ZZ"');
  });

  it('says so when the API cannot be reached, exit 1', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const io = fakeIO();
    expect(await runCli(['download', '--api', `http://127.0.0.1:${port}`], io)).toBe(1);
    expect(io.err()).toContain(`cannot reach the API at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it.each([
    [['ZZ'], /not ISO 3166-1 alpha-2 country codes: ZZ/],
    [['../etc'], /not ISO 3166-1 alpha-2/],
    [['--all', 'CN'], /either --all or codes/],
    [['--api', 'ftp://x'], /--api must be an http\(s\) URL/],
    [['--api', 'not a url'], /--api must be an http\(s\) URL/],
    [['--bogus'], /Unknown option/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['download', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});
