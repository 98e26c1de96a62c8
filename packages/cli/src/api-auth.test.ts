// The CLI's API key: FLAGSHIP_API_KEY goes out as a Bearer token on every request
// `flagship download` makes (the submit and the event stream), and a 401 says which
// variable to set.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBLEM_CONTENT_TYPE } from '@flagship/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiAuthHeaders } from './api-auth.ts';
import { runCli } from './cli.ts';
import { fakeIO } from './test-support.ts';

const KEY = 'cli-key-0123456789abcdef';
const ID = '3b241101-e2bb-4255-8caf-4136c566a962';
let server: Server | undefined;

afterEach(() => {
  vi.unstubAllEnvs();
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** An API that wants the key on every request and records what it was sent. */
async function apiWantingKey(seen: string[]): Promise<string> {
  server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? '-'}`);
    if (request.headers.authorization !== `Bearer ${KEY}`) {
      response.writeHead(401, { 'content-type': PROBLEM_CONTENT_TYPE, 'www-authenticate': 'Bearer' });
      response.end(
        JSON.stringify({
          type: 'urn:flagship:problem:unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail: 'an API key is required',
          instance: request.url,
          code: 'FLAGSHIP_UNAUTHORIZED',
        }),
      );
      return;
    }
    const links = { self: `/v1/downloads/${ID}`, events: `/v1/downloads/${ID}/events` };
    if (request.method === 'POST') {
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: ID, state: 'queued', total: 0, links }));
      return;
    }
    const done = {
      id: ID,
      state: 'completed',
      total: 0,
      done: 0,
      saved: 0,
      notFound: 0,
      failed: 0,
      elapsedSeconds: 0.01,
      createdAt: '2026-01-01T00:00:00.000Z',
      message: '0 flags downloaded in 0.01s',
      files: [],
      outcomes: [],
      links,
    };
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(`event: completed\ndata: ${JSON.stringify(done)}\n\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('FLAGSHIP_API_KEY', () => {
  it('is sent as a Bearer token, and nothing is sent when it is unset or blank', () => {
    expect(apiAuthHeaders({ FLAGSHIP_API_KEY: KEY })).toEqual({ authorization: `Bearer ${KEY}` });
    expect(apiAuthHeaders({})).toEqual({});
    expect(apiAuthHeaders({ FLAGSHIP_API_KEY: ' ' })).toEqual({});
  });

  it('authenticates both requests of flagship download', async () => {
    const seen: string[] = [];
    const api = await apiWantingKey(seen);
    vi.stubEnv('FLAGSHIP_API_KEY', KEY);
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'cn'], io)).toBe(0);
    expect(seen).toEqual([`POST /v1/downloads Bearer ${KEY}`, `GET /v1/downloads/${ID}/events Bearer ${KEY}`]);
    expect(io.out().toString()).toContain('0 flags downloaded in 0.01s');
  });

  it('names the variable when the API answers 401, exit 1', async () => {
    const api = await apiWantingKey([]);
    vi.stubEnv('FLAGSHIP_API_KEY', '');
    const io = fakeIO();
    expect(await runCli(['download', '--api', api, 'cn'], io)).toBe(1);
    expect(io.err()).toBe(
      'flagship download: the API refused the download: an API key is required (set FLAGSHIP_API_KEY to an API key)\n',
    );
  });
});
