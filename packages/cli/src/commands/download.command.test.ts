// `flagship download` against a small fake API on 127.0.0.1 (port 0) that speaks the
// real routes' shapes: submit, then an event stream of status, progress and completed.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

const summary = (failed: number) => ({
  state: 'completed',
  total: 2,
  saved: 2 - failed,
  notFound: 0,
  failed,
  elapsedSeconds: 0.04,
  files: ['CN_China.gif'],
  outcomes: [
    { code: 'CN', status: 'OK', country: 'China', file: 'CN_China.gif', attempts: 1 },
    failed > 0
      ? { code: 'IN', status: 'ERROR', reason: 'gave up after 3 attempts: HTTP 503', attempts: 3 }
      : { code: 'IN', status: 'OK', country: 'India', file: 'IN_India.gif', attempts: 1 },
  ],
  message: failed > 0 ? '1 flag downloaded in 0.04s (1 failed)' : '2 flags downloaded in 0.04s',
});

async function body(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text === '' ? undefined : JSON.parse(text);
}

async function fakeApi(options: { failed?: number; status?: number } = {}): Promise<string> {
  server = createServer(async (request, response) => {
    if (request.method === 'POST' && request.url === '/v1/downloads') {
      posted.push(await body(request));
      if (options.status !== undefined) {
        response.writeHead(options.status, { 'content-type': 'application/problem+json' });
        response.end(JSON.stringify({ status: options.status, detail: 'unknown country code(s): "ZZ"' }));
        return;
      }
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'd-1',
          state: 'queued',
          total: 2,
          links: { self: '/v1/downloads/d-1', events: '/v1/downloads/d-1/events' },
        }),
      );
      return;
    }
    if (request.url === '/v1/downloads/d-1/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (event: string, data: unknown) =>
        response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('status', { state: 'running', done: 0, total: 2, outcomes: [] });
      send('progress', { done: 1, total: 2, outcomes: [summary(0).outcomes[0]] });
      send('completed', summary(options.failed ?? 0));
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
    const api = await fakeApi({ failed: 1 });
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'CN', 'IN'], io)).toBe(1);
    expect(io.out().toString()).toContain('1 flag downloaded in 0.04s (1 failed)');
    expect(io.err()).toContain('IN: gave up after 3 attempts: HTTP 503');
  });

  it('prints the id and returns at once with --no-follow', async () => {
    const api = await fakeApi();
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, '--no-follow'], io)).toBe(0);
    expect(io.out().toString()).toBe('d-1\n');
  });

  it("shows the API's problem detail when it refuses, exit 1", async () => {
    const api = await fakeApi({ status: 400 });
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
