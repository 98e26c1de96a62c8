// `flagship download` against the fake API (fake-api.ts, built from the public API's
// shapes): submit, then follow the event stream of status, progress and the final event.
import { HttpContracts, type DownloadEvent } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import {
  CANCELLED,
  FAILED,
  ID,
  INDIA_FAILED,
  PATHS,
  PROGRESS_CHINA,
  accepted,
  downloadEvents,
  finished,
  openEventStream,
  sendJson,
  sendProblem,
  useFakeApi,
  status,
  streamOf,
  type FakeRoute,
} from '../fake-api.ts';
import { closedPort, fakeIO, runInterrupted } from '../test-support.ts';

const startApi = useFakeApi();

const submit: FakeRoute = (_request, response) => sendJson(response, 202, HttpContracts.downloadAccepted, accepted());

/** The fake API: submit accepted, the stream given (default: every event, completed). */
async function api(events: FakeRoute = streamOf(downloadEvents()), more: Record<string, FakeRoute> = {}) {
  return startApi({ [`POST ${PATHS.downloads}`]: submit, [`GET ${PATHS.events}`]: events, ...more });
}

const completedWith = (india = INDIA_FAILED): DownloadEvent => ({ event: 'completed', data: finished(india) });

describe('flagship download', () => {
  it('submits, prints each country as it is saved and the report line, exit 0', async () => {
    const { url, requests } = await api();
    const io = fakeIO();
    expect(await runCli(['download', '--api', url, 'cn', 'in'], io)).toBe(0);
    expect(requests[0]?.body).toEqual({ codes: ['cn', 'in'] });
    expect(io.out().toString()).toBe('China\nIndia\n\n2 flags downloaded in 0.04s\n');
    expect(io.err()).toBe('');
  });

  it('asks for the default download with no codes, and for every country with --all', async () => {
    const { url, requests } = await api();
    expect(await runCli(['download', '--api', url], fakeIO())).toBe(0);
    expect(await runCli(['download', '--api', url, '--all'], fakeIO())).toBe(0);
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([{}, { all: true }]);
  });

  it('sends a fresh Idempotency-Key with each POST, or the one given', async () => {
    const { url, requests } = await api();
    await runCli(['download', '--api', url], fakeIO());
    await runCli(['download', '--api', url], fakeIO());
    await runCli(['download', '--api', url, '--idempotency-key', 'nightly-2026-01-01'], fakeIO());
    const keys = requests.filter((r) => r.method === 'POST').map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).not.toBe(keys[0]);
    expect(keys[2]).toBe('nightly-2026-01-01');
  });

  it('says so when the API replays the download an Idempotency-Key made before', async () => {
    const { url } = await api(streamOf(downloadEvents()), {
      [`POST ${PATHS.downloads}`]: (_request, response) =>
        sendJson(response, 202, HttpContracts.downloadAccepted, accepted({ replayed: true })),
    });
    const io = fakeIO();
    expect(await runCli(['download', '--api', url, '--idempotency-key', 'k1'], io)).toBe(0);
    expect(io.err()).toContain(`the API knew this Idempotency-Key: ${ID} is the download it made then`);
  });

  it('draws a progress bar on a terminal', async () => {
    const { url } = await api();
    const io = fakeIO();
    io.stdout.isTTY = true;
    expect(await runCli(['download', '--api', url], io)).toBe(0);
    expect(io.out().toString()).toContain('\r[###############---------------] 1/2');
    expect(io.out().toString()).toContain('\r[##############################] 2/2\n');
  });

  it('exits 1 and lists the reasons when flags failed', async () => {
    const { url } = await api(streamOf(downloadEvents(completedWith())));
    const io = fakeIO();
    expect(await runCli(['download', '--api', url, 'CN', 'IN'], io)).toBe(1);
    expect(io.out().toString()).toContain('1 flag downloaded in 0.04s (1 failed)');
    expect(io.err()).toBe('  IN: gave up after 3 attempts: HTTP 503\n');
  });

  it('prints why the download failed as a whole (failedReason), exit 1', async () => {
    const { url } = await api(streamOf(downloadEvents({ event: 'failed', data: FAILED })));
    const io = fakeIO();
    expect(await runCli(['download', '--api', url, 'CN', 'IN'], io)).toBe(1);
    expect(io.out().toString()).toBe('China\n');
    expect(io.err()).toBe('flagship download: the download failed: ENOSPC: no space left on device\n');
  });

  it('says when the download was cancelled, exit 1', async () => {
    const { url } = await api(streamOf(downloadEvents({ event: 'cancelled', data: CANCELLED })));
    const io = fakeIO();
    expect(await runCli(['download', '--api', url], io)).toBe(1);
    expect(io.err()).toBe(
      `flagship download: the download ${ID} was cancelled: 1/2 done: 1 saved, 0 not found, 0 failed\n`,
    );
  });

  describe('--json', () => {
    it('prints only the final status, the document GET /v1/downloads/<id> gives, exit 0', async () => {
      const { url } = await api();
      const io = fakeIO();
      expect(await runCli(['download', '--api', url, '--json'], io)).toBe(0);
      expect(JSON.parse(io.out().toString())).toEqual(finished());
      expect(io.out().toString().trim().split('\n')).toHaveLength(1);
    });

    it('exits 1 with the final status when flags failed, their reasons on stderr', async () => {
      const { url } = await api(streamOf(downloadEvents(completedWith())));
      const io = fakeIO();
      expect(await runCli(['download', '--api', url, '--json'], io)).toBe(1);
      expect(HttpContracts.downloadStatus.parse(JSON.parse(io.out().toString()))).toMatchObject({ failed: 1 });
      expect(io.err()).toContain('IN: gave up after 3 attempts');
    });

    it('prints the accepted download with --no-follow', async () => {
      const { url, requests } = await api();
      const io = fakeIO();
      expect(await runCli(['download', '--api', url, '--json', '--no-follow'], io)).toBe(0);
      expect(JSON.parse(io.out().toString())).toEqual(accepted());
      expect(requests.map((r) => r.method)).toEqual(['POST']);
    });

    it('prints each event as a line of JSON with --ndjson, the final one last', async () => {
      const { url } = await api();
      const io = fakeIO();
      expect(await runCli(['download', '--api', url, '--ndjson'], io)).toBe(0);
      const lines = io
        .out()
        .toString()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { event: string; id: string; data: unknown });
      expect(lines.map(({ event, id }) => `${id}:${event}`)).toEqual(['1:status', '2:progress', '3:completed']);
      expect(lines.map(({ event, data }) => HttpContracts.downloadEvent.check({ event, data }))).toEqual([
        true,
        true,
        true,
      ]);
    });
  });

  it('prints the id and returns at once with --no-follow', async () => {
    const { url } = await api();
    const io = fakeIO();
    expect(await runCli(['download', '--api', url, '--no-follow'], io)).toBe(0);
    expect(io.out().toString()).toBe(`${ID}\n`);
  });

  it('reopens a lost stream with Last-Event-ID and follows on to the end', async () => {
    let opened = 0;
    const { url, requests } = await api((request, response) => {
      const stream = openEventStream(response);
      if ((opened += 1) === 1) {
        stream.send({ event: 'status', data: status() }, '1');
        stream.send({ event: 'progress', data: PROGRESS_CHINA }, '2');
      } else {
        stream.send({ event: 'completed', data: finished() }, '3');
      }
      stream.end();
    });
    const io = fakeIO();
    expect(await runCli(['download', '--api', url], io)).toBe(0);
    const streams = requests.filter((r) => r.path === PATHS.events);
    expect(streams.map((r) => r.headers['last-event-id'])).toEqual([undefined, '2']);
    expect(io.out().toString()).toBe('China\nIndia\n\n2 flags downloaded in 0.04s\n');
  });

  it('gives up, exit 3, when the stream keeps ending before the download does', async () => {
    const { url, requests } = await api(streamOf([{ event: 'status', data: status() }]));
    const io = fakeIO();
    expect(await runCli(['download', '--api', url], io)).toBe(3);
    expect(requests.filter((r) => r.path === PATHS.events)).toHaveLength(4);
    expect(io.err()).toBe(
      `flagship download: lost the event stream of ${ID}: the stream ended before the download did\n`,
    );
  });

  it('says so when an event breaks the shared schema, exit 3', async () => {
    const { url } = await api((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`event: completed\ndata: ${JSON.stringify({ state: 'completed', total: 'two' })}\n\n`);
    });
    const io = fakeIO();
    expect(await runCli(['download', '--api', url], io)).toBe(3);
    expect(io.err()).toContain(
      `flagship download: did not understand the event stream of ${ID}: invalid download event`,
    );
  });

  it("prints the API's problem, title and detail, when it refuses, exit 3", async () => {
    const { url } = await api(streamOf([]), {
      [`POST ${PATHS.downloads}`]: (_request, response) =>
        sendProblem(response, 400, 'Invalid request', 'unknown country code(s): "ZZ"'),
    });
    const io = fakeIO();
    expect(await runCli(['download', '--api', url, 'CN'], io)).toBe(3);
    expect(io.err()).toBe('flagship download: Invalid request: unknown country code(s): "ZZ"\n');
  });

  it('says so when the API cannot be reached, exit 3', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['download', '--api', `http://127.0.0.1:${port}`], io)).toBe(3);
    expect(io.err()).toBe(
      `flagship download: cannot reach the API at http://127.0.0.1:${port}: ECONNREFUSED (is it running?)\n`,
    );
  });

  describe('the API and its key from the environment', () => {
    it('uses FLAGSHIP_API when there is no --api, and sends FLAGSHIP_API_KEY as a bearer token', async () => {
      const { url, requests } = await api();
      const io = fakeIO({ env: { FLAGSHIP_API: url, FLAGSHIP_API_KEY: 'fk_secret' } });
      expect(await runCli(['download'], io)).toBe(0);
      expect(requests.map((r) => r.headers.authorization)).toEqual(['Bearer fk_secret', 'Bearer fk_secret']);
    });

    it('sends no authorization without a key (or with an empty one)', async () => {
      const { url, requests } = await api();
      expect(await runCli(['download', '--api', url], fakeIO({ env: { FLAGSHIP_API_KEY: '' } }))).toBe(0);
      expect(requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
    });

    it.each([
      [401, 'Unauthorized', 'missing API key', ' (set FLAGSHIP_API_KEY to send an API key)'],
      [403, 'Forbidden', 'this key may not submit downloads', ''],
    ])('prints a %i problem with its detail, exit 3', async (code, title, detail, hint) => {
      const { url } = await api(streamOf([]), {
        [`POST ${PATHS.downloads}`]: (_request, response) => sendProblem(response, code, title, detail),
      });
      const env = code === 403 ? { FLAGSHIP_API_KEY: 'fk_reader' } : {};
      const io = fakeIO({ env });
      expect(await runCli(['download', '--api', url], io)).toBe(3);
      expect(io.err()).toBe(`flagship download: ${title}: ${detail}${hint}\n`);
    });

    it('refuses a FLAGSHIP_API that is not an http(s) URL, exit 2', async () => {
      const io = fakeIO({ env: { FLAGSHIP_API: 'localhost:3000' } });
      expect(await runCli(['download'], io)).toBe(2);
      expect(io.err()).toContain('FLAGSHIP_API must be an http(s) URL, got "localhost:3000"');
    });
  });

  describe('Ctrl-C (the signal main.ts aborts)', () => {
    const held = streamOf(downloadEvents().slice(0, 2), { hold: true });
    const cancelled: FakeRoute = (_request, response) =>
      sendJson(response, 202, HttpContracts.downloadStatus, CANCELLED);

    it('stops following, leaves the download running and prints the command that cancels it, exit 130', async () => {
      const { url, requests } = await api(held);
      const { code, io } = await runInterrupted(['download', '--api', url], (io) => io.printed('China\n'));
      expect(code).toBe(130);
      expect(io.err()).toBe(
        `flagship download: stopped following ${ID}; the download goes on. To cancel it: flagship cancel ${ID} --api ${url}\n`,
      );
      expect(requests.map((r) => r.method)).toEqual(['POST', 'GET']);
    });

    it('cancels the download with --cancel-on-exit (DELETE) and prints the result, exit 130', async () => {
      const fake = await api(held, { [`DELETE ${PATHS.self}`]: cancelled });
      const argv = ['download', '--api', fake.url, '--cancel-on-exit'];
      const { code, io } = await runInterrupted(argv, (io) => io.printed('China\n'));
      expect(code).toBe(130);
      await fake.nextRequest(`DELETE ${PATHS.self}`);
      expect(io.err()).toBe(
        `flagship download: cancelled ${ID}; it is cancelled: 1/2 done: 1 saved, 0 not found, 0 failed\n`,
      );
    });

    it('prints the DELETE answer with --cancel-on-exit --json', async () => {
      const fake = await api(held, { [`DELETE ${PATHS.self}`]: cancelled });
      const argv = ['download', '--api', fake.url, '--cancel-on-exit', '--json'];
      const { code, io } = await runInterrupted(argv, () => fake.nextRequest(`GET ${PATHS.events}`));
      expect(code).toBe(130);
      expect(JSON.parse(io.out().toString())).toEqual(CANCELLED);
    });

    it('exits 3 with the problem when --cancel-on-exit cannot cancel (409: it ended meanwhile)', async () => {
      const { url } = await api(held, {
        [`DELETE ${PATHS.self}`]: (_request, response) =>
          sendProblem(response, 409, 'Conflict', `download ${ID} has already completed`),
      });
      const argv = ['download', '--api', url, '--cancel-on-exit'];
      const { code, io } = await runInterrupted(argv, (io) => io.printed('China\n'));
      expect(code).toBe(3);
      expect(io.err()).toBe(
        `flagship download: could not cancel ${ID}: Conflict: download ${ID} has already completed\n`,
      );
    });
  });

  it.each([
    [['ZZ'], /not ISO 3166-1 alpha-2 country codes: ZZ/],
    [['../etc'], /not ISO 3166-1 alpha-2/],
    [['--all', 'CN'], /either --all or codes/],
    [['--json', '--ndjson'], /either --json or --ndjson/],
    [['--api', 'ftp://x'], /--api must be an http\(s\) URL/],
    [['--api', 'not a url'], /--api must be an http\(s\) URL/],
    [['--bogus'], /Unknown option/],
    [['--idempotency-key'], /argument missing/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['download', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain('Usage: flagship download');
  });
});
