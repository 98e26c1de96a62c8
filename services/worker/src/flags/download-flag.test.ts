import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalFlagStore, type FlagStore } from '@flagship/common';
import type { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay, downloadFlag, type DownloadFlagDeps } from './download-flag.ts';
import { createOriginDispatcher } from './origin-dispatcher.ts';

/** A whole 1×1 GIF89a (header, screen descriptor, colour table, one image, trailer). */
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const CAP = 4_096;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let originUrl: string;
let handler: Handler;
let hits: Map<string, number>;
let dispatcher: Agent;
let folder: string;
let store: FlagStore;

function deps(overrides: Partial<DownloadFlagDeps> = {}): DownloadFlagDeps {
  return { dispatcher, originUrl, store, attempts: 3, retryBaseDelayMs: 1, ...overrides };
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** An origin that serves `country` for every code, unless a test replaces `handler`. */
function flagOrigin(country: string): Handler {
  return (req, res) => {
    if (req.url?.endsWith('.gif')) res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF);
    else json(res, { country });
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/flags`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  hits = new Map();
  handler = flagOrigin('United States');
  dispatcher = createOriginDispatcher({
    connections: 8,
    connectTimeoutMs: 1_000,
    headersTimeoutMs: 300,
    bodyTimeoutMs: 300,
    maxResponseBytes: CAP,
  });
  folder = await mkdtemp(path.join(tmpdir(), 'flagship-download-flag-'));
  store = createLocalFlagStore(folder);
});

afterEach(async () => {
  server.closeAllConnections();
  await dispatcher.destroy();
  await rm(folder, { recursive: true, force: true });
});

describe('downloadFlag', () => {
  it('fetches the GIF and metadata, and saves {CC}_{country}.gif', async () => {
    const outcome = await downloadFlag('US', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toEqual({
      code: 'US',
      status: 'OK',
      country: 'United States',
      file: 'US_United_States.gif',
      bytes: GIF.byteLength,
      attempts: 1,
    });
    expect(await readFile(path.join(folder, 'US_United_States.gif'))).toEqual(GIF);
    expect(hits.get('/data/flags/us/us.gif')).toBe(1);
    expect(hits.get('/data/flags/us/metadata.json')).toBe(1);
  });

  it('asks for both files at the same time', async () => {
    const arrived: string[] = [];
    let releaseBoth: () => void = () => {};
    const bothArrived = new Promise<void>((resolve) => (releaseBoth = resolve));
    const serve = flagOrigin('Brazil');
    handler = (req, res) => {
      arrived.push(req.url ?? '');
      // Neither is answered until both requests are in: a sequential client would hang.
      if (arrived.length === 2) releaseBoth();
      void bothArrived.then(() => serve(req, res));
    };
    const outcome = await downloadFlag('BR', deps(), AbortSignal.timeout(5_000));
    expect(outcome.status).toBe('OK');
    expect(arrived.sort()).toEqual(['/data/flags/br/br.gif', '/data/flags/br/metadata.json']);
  });

  it('reports NOT_FOUND, without retrying, when the GIF is 404', async () => {
    handler = (req, res) => (req.url?.endsWith('.gif') ? res.writeHead(404).end('no') : json(res, { country: 'X' }));
    const outcome = await downloadFlag('XK', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ code: 'XK', status: 'NOT_FOUND', attempts: 1 });
    expect(outcome.reason).toContain('404');
    expect(hits.get('/data/flags/xk/xk.gif')).toBe(1);
    expect(await readdir(folder).catch(() => [])).toEqual([]);
  });

  it('reports NOT_FOUND when metadata.json is 404', async () => {
    handler = (req, res) => (req.url?.endsWith('.gif') ? res.end(GIF) : res.writeHead(404).end());
    const outcome = await downloadFlag('AQ', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'NOT_FOUND', attempts: 1 });
    expect(hits.get('/data/flags/aq/metadata.json')).toBe(1);
  });

  it('retries a 503 and counts the attempts', async () => {
    const serve = flagOrigin('Denmark');
    handler = (req, res) => {
      if (req.url?.endsWith('.gif') && hits.get(req.url) === 1) res.writeHead(503).end('busy');
      else serve(req, res);
    };
    const outcome = await downloadFlag('DK', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'OK', file: 'DK_Denmark.gif', attempts: 2 });
    expect(hits.get('/data/flags/dk/dk.gif')).toBe(2);
  });

  it('gives up with ERROR after FLAG_ATTEMPTS when the origin keeps failing', async () => {
    handler = (_req, res) => res.writeHead(500).end('boom');
    const outcome = await downloadFlag('SE', deps({ attempts: 3 }), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 3 });
    expect(outcome.reason).toContain('gave up after 3 attempts');
    expect(outcome.reason).toContain('HTTP 500');
    expect(hits.get('/data/flags/se/se.gif')).toBe(3);
  });

  it('retries when the origin refuses connections, then reports ERROR', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await downloadFlag(
      'RU',
      deps({ originUrl: `http://127.0.0.1:${port}/data/flags`, attempts: 2 }),
      AbortSignal.timeout(5_000),
    );
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 2 });
    expect(outcome.reason).toContain('ECONNREFUSED');
  });

  it('times out when the headers never come', async () => {
    handler = (req, res) => (req.url?.endsWith('.gif') ? undefined : json(res, { country: 'Japan' }));
    const outcome = await downloadFlag('JP', deps({ attempts: 2 }), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 2 });
    expect(outcome.reason).toContain('UND_ERR_HEADERS_TIMEOUT');
  });

  it('refuses a body over the size cap, without retrying', async () => {
    const huge = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(CAP * 4)]);
    handler = (req, res) => (req.url?.endsWith('.gif') ? res.end(huge) : json(res, { country: 'Mexico' }));
    const outcome = await downloadFlag('MX', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('UND_ERR_RES_EXCEEDED_MAX_SIZE');
    expect(hits.get('/data/flags/mx/mx.gif')).toBe(1);
    expect(await readdir(folder).catch(() => [])).toEqual([]);
  });

  it('reports ERROR when metadata.json is not JSON', async () => {
    handler = (req, res) => (req.url?.endsWith('.gif') ? res.end(GIF) : res.end('<html>oops</html>'));
    const outcome = await downloadFlag('PH', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('not JSON');
  });

  it.each([
    [{}, 'no string "country"'],
    [{ country: 42 }, 'no string "country"'],
    [null, 'not a JSON object'],
    [['country'], 'not a JSON object'],
    [{ country: 'N'.repeat(201) }, '"country" is 201 characters long (at most 200)'],
  ])('reports ERROR when metadata is %j', async (metadata, problem) => {
    handler = (req, res) => (req.url?.endsWith('.gif') ? res.end(GIF) : json(res, metadata));
    const outcome = await downloadFlag('VN', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain(problem);
    expect(await readdir(folder).catch(() => [])).toEqual([]);
  });

  it('reports ERROR when the GIF is not a GIF', async () => {
    handler = (req, res) =>
      req.url?.endsWith('.gif') ? res.end('<html>not an image</html>') : json(res, { country: 'Egypt' });
    const outcome = await downloadFlag('EG', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('not a GIF');
  });

  it('reports ERROR for a status that retrying cannot fix', async () => {
    handler = (_req, res) => res.writeHead(403).end();
    const outcome = await downloadFlag('ET', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('HTTP 403');
  });

  it('saves a hostile country name safely inside the folder', async () => {
    handler = flagOrigin('../../etc/passwd');
    const outcome = await downloadFlag('NG', deps(), AbortSignal.timeout(5_000));
    expect(outcome).toMatchObject({ status: 'OK', file: 'NG_etc_passwd.gif', country: '../../etc/passwd' });
    expect(await readdir(folder)).toEqual(['NG_etc_passwd.gif']);
  });

  it('keeps a country name of the longest length accepted, in a file name of at most 200 bytes', async () => {
    handler = flagOrigin('Ñ'.repeat(200));
    const outcome = await downloadFlag('IN', deps(), AbortSignal.timeout(5_000));
    expect(outcome.status).toBe('OK');
    expect(outcome.country?.length).toBe(200);
    expect(Buffer.byteLength(outcome.file ?? '')).toBeLessThanOrEqual(200);
  });

  it('lets a store failure (disk full) fail the call, so the chunk is retried', async () => {
    const fullDisk: FlagStore = {
      save: () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })),
      open: () => Promise.resolve(undefined),
    };
    await expect(downloadFlag('CN', deps({ store: fullDisk }), AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: 'ENOSPC',
    });
  });

  it('aborts in-flight requests when the signal fires', async () => {
    let requestArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    const clientWentAway = new Promise<void>((resolve) => {
      handler = (req, res) => {
        res.on('close', () => resolve());
        requestArrived(); // and never answer
        void req;
      };
    });
    const controller = new AbortController();
    const download = downloadFlag('FR', deps({ dispatcher: longTimeouts() }), controller.signal);
    await arrived;
    controller.abort(new Error('shutting down'));
    await expect(download).rejects.toThrow('shutting down');
    await clientWentAway;
  });

  it('stops waiting between attempts when the signal fires', async () => {
    handler = (_req, res) => res.writeHead(503).end();
    const controller = new AbortController();
    let backingOff: () => void = () => {};
    const sleeping = new Promise<void>((resolve) => (backingOff = resolve));
    // The jitter is drawn right before the sleep: the test aborts during a 30 s wait
    // (well inside the 10 min deadline, so the wait is really slept).
    const random = () => {
      backingOff();
      return 0;
    };
    const download = downloadFlag(
      'DE',
      deps({ retryBaseDelayMs: 60_000, deadlineMs: 600_000, random }),
      controller.signal,
    );
    await sleeping;
    controller.abort(new Error('shutting down'));
    await expect(download).rejects.toThrow('shutting down');
  });
});

describe('backoffDelay', () => {
  it('doubles each attempt, between half and all of the ceiling', () => {
    expect(backoffDelay(1, 100, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, () => 0)).toBe(200);
    expect(backoffDelay(3, 100, () => 0.5)).toBe(300);
  });
});

let extraDispatchers: Agent[] = [];
function longTimeouts(): Agent {
  const agent = createOriginDispatcher({
    connections: 2,
    connectTimeoutMs: 1_000,
    headersTimeoutMs: 60_000,
    bodyTimeoutMs: 60_000,
    maxResponseBytes: CAP,
  });
  extraDispatchers.push(agent);
  return agent;
}
afterEach(async () => {
  await Promise.all(extraDispatchers.map((agent) => agent.destroy()));
  extraDispatchers = [];
});
