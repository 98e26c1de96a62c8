// `flagship status ID` against the fake API (fake-api.ts): the report, --json, and the
// exit code a download's state and counts make.
import { HttpContracts, type DownloadStatus } from '@flagship/common';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import {
  CANCELLED,
  FAILED,
  ID,
  INDIA_FAILED,
  INDIA_NOT_FOUND,
  PATHS,
  RETRY_ID,
  finished,
  sendJson,
  sendProblem,
  useFakeApi,
  status,
  type FakeRoute,
} from '../fake-api.ts';
import { closedPort, fakeIO, runInterrupted } from '../test-support.ts';

const startApi = useFakeApi();

async function api(route: FakeRoute): Promise<string> {
  return (await startApi({ [`GET ${PATHS.self}`]: route })).url;
}

const answer = (body: DownloadStatus) => (_request: unknown, response: ServerResponse) =>
  sendJson(response, 200, HttpContracts.downloadStatus, body);

describe('flagship status', () => {
  it('prints the state, counts, timing and files of a completed download, exit 0', async () => {
    const url = await api(answer(finished()));
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(0);
    expect(io.out().toString()).toBe(
      [
        `id        ${ID}`,
        'state     completed',
        'flags     2/2 done: 2 saved, 0 not found, 0 failed',
        'created   2026-01-01 00:00:00Z',
        'finished  2026-01-01 00:00:00Z',
        'elapsed   0.04s',
        'message   2 flags downloaded in 0.04s',
        'files (2):',
        '  CN_China.gif',
        '  IN_India.gif',
        '',
      ].join('\n'),
    );
    expect(io.err()).toBe('');
  });

  it('lists failed flags with their reasons and flags not found; exit 1 when a flag failed', async () => {
    const url = await api(answer(finished(INDIA_FAILED, { retryOf: RETRY_ID })));
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(1);
    expect(io.out().toString()).toContain(`retry of  ${RETRY_ID}\n`);
    expect(io.out().toString()).toContain('failed flags (1):\n  IN: gave up after 3 attempts: HTTP 503\n');
  });

  it('exits 0 for a download with flags not found only', async () => {
    const url = await api(answer(finished(INDIA_NOT_FOUND)));
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(0);
    expect(io.out().toString()).toContain('not found (1):\n  IN\n');
  });

  it('prints why a failed download failed (failedReason), exit 1', async () => {
    const url = await api(answer(FAILED));
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(1);
    expect(io.out().toString()).toContain('state     failed\n');
    expect(io.out().toString()).toContain('reason    ENOSPC: no space left on device\n');
  });

  it.each([
    ['cancelled', CANCELLED, 1],
    ['running', status({ done: 1, saved: 1, outcomes: [] }), 0],
    ['queued', status({ state: 'queued' }), 0],
  ] as const)('exits %s → %i', async (_state, body, code) => {
    const url = await api(answer(body));
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(code);
    expect(io.out().toString()).toContain(`state     ${body.state}\n`);
  });

  it("prints the API's document with --json, with the same exit code", async () => {
    const url = await api(answer(finished(INDIA_FAILED)));
    const io = fakeIO();
    expect(await runCli(['status', '--json', ID, '--api', url], io)).toBe(1);
    expect(JSON.parse(io.out().toString())).toEqual(finished(INDIA_FAILED));
    expect(io.err()).toBe('');
  });

  it('prints the 404 problem of an unknown download, exit 3', async () => {
    const url = await api((_request, response) => sendProblem(response, 404, 'Not Found', `no download ${ID}`));
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url, '--json'], io)).toBe(3);
    expect(io.err()).toBe(`flagship status: Not Found: no download ${ID}\n`);
    expect(io.out().length).toBe(0);
  });

  it('says HTTP status when an error answer is not a problem, exit 3', async () => {
    const url = await api((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>');
    });
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(3);
    expect(io.err()).toBe('flagship status: HTTP 502 Bad Gateway\n');
  });

  it('says so when the answer breaks the shared schema, exit 3', async () => {
    const url = await api((_request, response) => {
      response.writeHead(200).end(JSON.stringify({ id: ID, total: -1 }));
    });
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', url], io)).toBe(3);
    expect(io.err()).toContain("flagship status: did not understand the API's answer: invalid download status:");
  });

  it('says so when the API cannot be reached, exit 3', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['status', ID, '--api', `http://127.0.0.1:${port}`], io)).toBe(3);
    expect(io.err()).toContain(`cannot reach the API at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('stops waiting on Ctrl-C, exit 130', async () => {
    let asked!: () => void;
    const waiting = new Promise<void>((resolve) => (asked = resolve));
    const url = await api(() => asked()); // never answers
    const { code, io } = await runInterrupted(['status', ID, '--api', url], () => waiting);
    expect(code).toBe(130);
    expect(io.err()).toBe('flagship status: interrupted\n');
  });

  it.each([
    [[], /expected one download id, got 0/],
    [['not-a-uuid'], /not a download id/],
    [[ID, '--state', 'x'], /Unknown option '--state'/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['status', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});
