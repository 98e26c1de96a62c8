// `flagship watch ID` against the fake API (fake-api.ts): follows the download's event
// stream as `download` does after submitting; Ctrl-C leaves it running or cancels it.
import { HttpContracts } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import {
  CANCELLED,
  FAILED,
  ID,
  INDIA_FAILED,
  PATHS,
  downloadEvents,
  finished,
  sendJson,
  sendProblem,
  useFakeApi,
  status,
  streamOf,
  type FakeApi,
  type FakeRoute,
} from '../fake-api.ts';
import { closedPort, fakeIO, runInterrupted, type FakeIO } from '../test-support.ts';

const startApi = useFakeApi();

async function api(events: FakeRoute, more: Record<string, FakeRoute> = {}): Promise<FakeApi> {
  return startApi({ [`GET ${PATHS.events}`]: events, ...more });
}

describe('flagship watch', () => {
  it('follows the download: each country, then the report line, exit 0', async () => {
    const { url, requests } = await api(streamOf(downloadEvents()));
    const io = fakeIO();
    expect(await runCli(['watch', ID, '--api', url], io)).toBe(0);
    expect(io.out().toString()).toBe('China\nIndia\n\n2 flags downloaded in 0.04s\n');
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${PATHS.events}`]);
  });

  it('reports a download that has ended at once (status, then its final event)', async () => {
    const { url } = await api(
      streamOf([
        { event: 'status', data: finished() },
        { event: 'completed', data: finished() },
      ]),
    );
    const io = fakeIO();
    expect(await runCli(['watch', ID.toUpperCase(), '--api', url], io)).toBe(0);
    expect(io.out().toString()).toBe('China\nIndia\n\n2 flags downloaded in 0.04s\n');
  });

  it('prints the final status with --json, exit 0', async () => {
    const { url } = await api(streamOf(downloadEvents()));
    const io = fakeIO();
    expect(await runCli(['watch', ID, '--api', url, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out().toString())).toEqual(finished());
  });

  it.each([
    [
      'flags failed',
      { event: 'completed', data: finished(INDIA_FAILED) },
      '  IN: gave up after 3 attempts: HTTP 503\n',
    ],
    ['the download failed', { event: 'failed', data: FAILED }, 'the download failed: ENOSPC: no space left on device'],
    ['the download was cancelled', { event: 'cancelled', data: CANCELLED }, `the download ${ID} was cancelled: 1/2`],
  ] as const)('exits 1 when %s, saying why', async (_case, final, message) => {
    const { url } = await api(streamOf(downloadEvents(final)));
    const io = fakeIO();
    expect(await runCli(['watch', ID, '--api', url], io)).toBe(1);
    expect(io.err()).toContain(message);
  });

  it('prints the 404 problem of an unknown download, exit 3', async () => {
    const { url } = await api((_request, response) => sendProblem(response, 404, 'Not Found', `no download ${ID}`));
    const io = fakeIO();
    expect(await runCli(['watch', ID, '--api', url], io)).toBe(3);
    expect(io.err()).toBe(`flagship watch: Not Found: no download ${ID}\n`);
  });

  it('says so when the API cannot be reached, exit 3, without retrying', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['watch', ID, '--api', `http://127.0.0.1:${port}`], io)).toBe(3);
    expect(io.err()).toContain(`cannot reach the API at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  describe('Ctrl-C', () => {
    const held = streamOf(downloadEvents().slice(0, 2), { hold: true });
    const china = (io: FakeIO) => io.printed('China\n');

    it('stops following, leaves the download running and prints the cancel command, exit 130', async () => {
      const { url, requests } = await api(held);
      const { code, io } = await runInterrupted(['watch', ID, '--api', url], china);
      expect(code).toBe(130);
      expect(io.err()).toContain(`To cancel it: flagship cancel ${ID} --api ${url}\n`);
      expect(requests.some((r) => r.method === 'DELETE')).toBe(false);
    });

    it('does not name --api in the cancel command when the API came from FLAGSHIP_API', async () => {
      const { url } = await api(held);
      const { code, io } = await runInterrupted(['watch', ID], china, { env: { FLAGSHIP_API: url } });
      expect(code).toBe(130);
      expect(io.err()).toMatch(new RegExp(`To cancel it: flagship cancel ${ID}\\n$`));
    });

    it('cancels the download with --cancel-on-exit: a DELETE, its result printed, exit 130', async () => {
      const fake = await api(held, {
        [`DELETE ${PATHS.self}`]: (_request, response) =>
          sendJson(response, 202, HttpContracts.downloadStatus, status({ ...CANCELLED, state: 'running' })),
      });
      const { code, io } = await runInterrupted(['watch', ID, '--api', fake.url, '--cancel-on-exit'], china);
      expect(code).toBe(130);
      expect((await fake.nextRequest(`DELETE ${PATHS.self}`)).path).toBe(PATHS.self);
      expect(io.err()).toBe(
        `flagship watch: cancelled ${ID}; it is running: 1/2 done: 1 saved, 0 not found, 0 failed\n`,
      );
    });
  });

  it.each([
    [[], /expected one download id, got 0/],
    [[ID, ID], /expected one download id, got 2/],
    [['42'], /not a download id \(a UUID\): "42"/],
    [[ID, '--bogus'], /Unknown option '--bogus'/],
    [[ID, '--json', '--ndjson'], /either --json or --ndjson/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['watch', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain('Usage: flagship watch [options] ID');
  });
});
