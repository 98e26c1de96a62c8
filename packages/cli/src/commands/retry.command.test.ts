// `flagship retry ID` against the fake API (fake-api.ts): POST .../retry, then follow the
// new download (its retryOf the old one) like `download`.
import { HttpContracts } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import {
  ID,
  INDIA,
  INDIA_FAILED,
  PATHS,
  RETRY_ID,
  accepted,
  linksOf,
  sendJson,
  sendProblem,
  useFakeApi,
  status,
  streamOf,
  type FakeRoute,
} from '../fake-api.ts';
import { closedPort, fakeIO, runInterrupted } from '../test-support.ts';

const startApi = useFakeApi();

const RETRY = linksOf(RETRY_ID);
const retried = accepted({ id: RETRY_ID, total: 1, retryOf: ID });
const retryStatus = (india = INDIA, state: 'running' | 'completed' = 'completed') =>
  status({
    id: RETRY_ID,
    state,
    total: 1,
    retryOf: ID,
    ...(state === 'running'
      ? {}
      : {
          done: 1,
          saved: india.status === 'OK' ? 1 : 0,
          failed: india.status === 'ERROR' ? 1 : 0,
          outcomes: [india],
          files: india.file === undefined ? [] : [india.file],
          elapsedSeconds: 0.02,
          finishedAt: '2026-01-01T00:00:01.000Z',
          message: india.status === 'OK' ? '1 flag downloaded in 0.02s' : '0 flags downloaded in 0.02s (1 failed)',
        }),
  });

async function api(
  retry: FakeRoute = (_request, response) => sendJson(response, 202, HttpContracts.downloadAccepted, retried),
  events: FakeRoute = streamOf([
    { event: 'status', data: retryStatus(INDIA, 'running') },
    { event: 'completed', data: retryStatus() },
  ]),
  more: Record<string, FakeRoute> = {},
) {
  return startApi({ [`POST ${PATHS.retry}`]: retry, [`GET ${RETRY.events}`]: events, ...more });
}

describe('flagship retry', () => {
  it('asks for a retry of the failed flags and follows the new download, exit 0', async () => {
    const { url, requests } = await api();
    const io = fakeIO();
    expect(await runCli(['retry', ID, '--api', url], io)).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'POST', path: PATHS.retry, body: undefined });
    expect(requests[0]?.query.toString()).toBe('');
    expect(requests[0]?.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(io.err()).toBe(`flagship retry: ${RETRY_ID} retries 1 flag of ${ID}\n`);
    expect(io.out().toString()).toBe('India\n\n1 flag downloaded in 0.02s\n');
  });

  it('asks for NOT_FOUND flags too with --include-not-found', async () => {
    const { url, requests } = await api();
    expect(await runCli(['retry', ID, '--include-not-found', '--api', url], fakeIO())).toBe(0);
    expect(requests[0]?.query.get('include')).toBe('not_found');
  });

  it('exits 1 when the retried flags fail again, with their reasons', async () => {
    const { url } = await api(undefined, streamOf([{ event: 'completed', data: retryStatus(INDIA_FAILED) }]));
    const io = fakeIO();
    expect(await runCli(['retry', ID, '--api', url], io)).toBe(1);
    expect(io.err()).toContain('  IN: gave up after 3 attempts: HTTP 503\n');
  });

  it("prints the new download's final status with --json", async () => {
    const { url } = await api();
    const io = fakeIO();
    expect(await runCli(['retry', ID, '--api', url, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out().toString())).toEqual(retryStatus());
  });

  it('prints the new id (--json: the accepted document, with retryOf) with --no-follow', async () => {
    const { url, requests } = await api();
    const text = fakeIO();
    expect(await runCli(['retry', ID, '--api', url, '--no-follow'], text)).toBe(0);
    expect(text.out().toString()).toBe(`${RETRY_ID}\n`);
    const json = fakeIO();
    expect(await runCli(['retry', ID, '--api', url, '--no-follow', '--json'], json)).toBe(0);
    expect(JSON.parse(json.out().toString())).toEqual(retried);
    expect(requests.every((r) => r.method === 'POST')).toBe(true);
  });

  it('prints the 409 problem when there is nothing to retry, exit 3', async () => {
    const { url } = await api((_request, response) =>
      sendProblem(response, 409, 'Conflict', `download ${ID} has no failed flags to retry`),
    );
    const io = fakeIO();
    expect(await runCli(['retry', ID, '--api', url], io)).toBe(3);
    expect(io.err()).toBe(`flagship retry: Conflict: download ${ID} has no failed flags to retry\n`);
  });

  it('says so when the API cannot be reached, exit 3', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['retry', ID, '--api', `http://127.0.0.1:${port}`], io)).toBe(3);
    expect(io.err()).toContain('ECONNREFUSED');
  });

  it('on Ctrl-C prints the command that cancels the new download, or cancels it with --cancel-on-exit', async () => {
    const running = retryStatus(INDIA, 'running');
    const fake = await api(undefined, streamOf([{ event: 'status', data: running }], { hold: true }), {
      [`DELETE ${RETRY.self}`]: (_request, response) =>
        sendJson(response, 202, HttpContracts.downloadStatus, { ...running, state: 'cancelled' }),
    });
    const streamOpened = () => fake.nextRequest(`GET ${RETRY.events}`);
    const left = await runInterrupted(['retry', ID, '--api', fake.url], streamOpened);
    expect(left.code).toBe(130);
    expect(left.io.err()).toContain(`To cancel it: flagship cancel ${RETRY_ID} --api ${fake.url}\n`);
    const cancelled = await runInterrupted(['retry', ID, '--api', fake.url, '--cancel-on-exit'], streamOpened);
    expect(cancelled.code).toBe(130);
    expect(cancelled.io.err()).toContain(`cancelled ${RETRY_ID}; it is cancelled: 0/1 done`);
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it.each([
    [[], /expected one download id, got 0/],
    [['abc'], /not a download id/],
    [[ID, '--include-not-found=yes'], /does not take an argument/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['retry', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});
