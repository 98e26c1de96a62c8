import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR } from './config.ts';
import { FaultOptionsError } from './faults.ts';
import { FlagDataError, loadFlagDataSet, type FlagDataSet } from './flag-data.ts';
import { generateFlags } from './generate-flags.ts';
import { createOriginServer, matchesIfNoneMatch, type OriginServerOptions } from './origin-server.ts';

// The package's own data set: rendered once if missing (a few seconds), then reused by
// every test here and by the other packages' tests.
let dataSet: FlagDataSet;
let app: FastifyInstance;
const servers: FastifyInstance[] = [];

beforeAll(async () => {
  await generateFlags({ outDir: DEFAULT_DATA_DIR });
  dataSet = await loadFlagDataSet(DEFAULT_DATA_DIR);
  app = server();
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((instance) => instance.close()));
});

function server(options: Omit<OriginServerOptions, 'dataSet' | 'dataDir'> = {}): FastifyInstance {
  const instance = createOriginServer({ dataSet, ...options });
  servers.push(instance);
  return instance;
}

const fileOnDisk = (code: string, file: string) => readFile(path.join(DEFAULT_DATA_DIR, 'flags', code, file));

describe('origin server: files', () => {
  it('answers /healthz with the number of flags', async () => {
    const response = await app.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', flags: dataSet.codes.length });
  });

  it('serves every GIF byte for byte as on disk, as image/gif', async () => {
    for (const code of dataSet.codes.map((c) => c.toLowerCase())) {
      const response = await app.inject(`/data/flags/${code}/${code}.gif`);
      expect(response.statusCode, code).toBe(200);
      expect(response.headers['content-type']).toBe('image/gif');
      expect(response.rawPayload.equals(await fileOnDisk(code, `${code}.gif`)), code).toBe(true);
    }
  });

  it("serves flupy's metadata.json as application/json", async () => {
    const response = await app.inject('/data/flags/cn/metadata.json');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ country: 'China', gec_cc: 'CH', iso_cc: 'CN', tld_cc: '.cn' });
    expect(response.rawPayload.equals(await fileOnDisk('cn', 'metadata.json'))).toBe(true);
  });

  it('accepts codes in any case', async () => {
    const lower = await app.inject('/data/flags/br/br.gif');
    for (const url of ['/data/flags/BR/BR.gif', '/data/flags/Br/br.gif', '/data/flags/BR/metadata.json']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(200);
    }
    expect((await app.inject('/data/flags/BR/BR.gif')).rawPayload.equals(lower.rawPayload)).toBe(true);
  });

  it('serves the manifest', async () => {
    const response = await app.inject('/data/flags/index.json');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(dataSet.codes);
  });

  it('answers HEAD with headers and no body', async () => {
    const response = await app.inject({ method: 'HEAD', url: '/data/flags/cn/cn.gif' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/gif');
    expect(response.body).toBe('');
  });

  it.each([
    '/data/flags/zz/zz.gif',
    '/data/flags/zz/metadata.json',
    '/data/flags/cn/us.gif',
    '/data/flags/cn/cn.png',
    '/data/flags/cn/cn.gif.bak',
    '/data/flags/cn/index.json',
    '/data/flags/cn/',
    '/data/flags/cn',
    '/data/flags/chn/chn.gif',
    '/data/flags/cn/cn.gif/extra',
    '/data/flags/..%2f..%2fetc/passwd.gif',
    '/data/flags/../../etc/passwd',
    '/data/flags/cn/..%2f..%2f..%2fpackage.json',
    '/data/flags/cn/%2e%2e%2fmetadata.json',
    '/data/flags/cn%00/cn.gif',
    '/data/flags/cn/cn.gif%00',
    '/data/flags/%63%6e%2f/cn.gif',
    '/data/flags/.generated.json',
    '/services/origin/data/flags/cn/cn.gif',
  ])('answers 404 for %s', async (url) => {
    const response = await app.inject(url);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).not.toBe('image/gif');
  });

  it('refuses an overlong path segment (414) without serving anything', async () => {
    const response = await app.inject(`/data/flags/${'a'.repeat(500)}/x.gif`);
    expect(response.statusCode).toBe(414);
    expect(response.headers['content-type']).not.toBe('image/gif');
  });

  it('answers 404 to other methods, not the file', async () => {
    const response = await app.inject({ method: 'POST', url: '/data/flags/cn/cn.gif' });
    expect(response.statusCode).toBe(404);
  });
});

describe('origin server: conditional GET', () => {
  it('sends a strong ETag and answers a matching If-None-Match with 304 and no body', async () => {
    const first = await app.inject('/data/flags/in/in.gif');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);

    const again = await app.inject({ url: '/data/flags/in/in.gif', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
  });

  it('answers 200 when the tag does not match, and GIF and metadata have different tags', async () => {
    const gif = await app.inject('/data/flags/in/in.gif');
    const metadata = await app.inject('/data/flags/in/metadata.json');
    expect(metadata.headers.etag).not.toBe(gif.headers.etag);
    const stale = await app.inject({ url: '/data/flags/in/in.gif', headers: { 'if-none-match': '"stale"' } });
    expect(stale.statusCode).toBe(200);
    const other = await app.inject({
      url: '/data/flags/in/in.gif',
      headers: { 'if-none-match': metadata.headers.etag as string },
    });
    expect(other.statusCode).toBe(200);
  });

  it('matches weakly, in lists and with *', () => {
    expect(matchesIfNoneMatch('"a", W/"b"', '"b"')).toBe(true);
    expect(matchesIfNoneMatch(' * ', '"b"')).toBe(true);
    expect(matchesIfNoneMatch('"a"', '"b"')).toBe(false);
    expect(matchesIfNoneMatch('b', '"b"')).toBe(false);
    expect(matchesIfNoneMatch(undefined, '"b"')).toBe(false);
    expect(matchesIfNoneMatch('', '"b"')).toBe(false);
  });
});

describe('origin server: faults', () => {
  const statusesOf = async (instance: FastifyInstance, n: number) => {
    const codes = dataSet.codes.slice(0, n).map((code) => code.toLowerCase());
    const statuses: number[] = [];
    // One at a time, so the seeded sequence maps to requests in a fixed order.
    for (const code of codes) statuses.push((await instance.inject(`/data/flags/${code}/${code}.gif`)).statusCode);
    return statuses;
  };

  it('answers about errorRate of flag requests with 503, the same ones for the same seed', async () => {
    const statuses = await statusesOf(server({ errorRate: 0.5, seed: 11 }), 200);
    const failed = statuses.filter((status) => status === 503).length;
    expect(failed).toBeGreaterThan(70);
    expect(failed).toBeLessThan(130);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(await statusesOf(server({ errorRate: 0.5, seed: 11 }), 200)).toEqual(statuses);
  });

  it('keeps /healthz out of fault injection', async () => {
    const flaky = server({ errorRate: 1 });
    expect((await flaky.inject('/healthz')).statusCode).toBe(200);
    expect((await flaky.inject('/data/flags/cn/metadata.json')).statusCode).toBe(503);
  });

  it('answers 500 for failCodes and serves the others', async () => {
    const failing = server({ failCodes: ['CN'] });
    const response = await failing.inject('/data/flags/cn/cn.gif');
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ message: 'injected fault' });
    expect((await failing.inject('/data/flags/CN/metadata.json')).statusCode).toBe(500);
    expect((await failing.inject('/data/flags/us/us.gif')).statusCode).toBe(200);
  });

  it('delays each flag response by at least the minimum delay', async () => {
    const slow = server({ delayMs: [40, 60], seed: 5 });
    const started = performance.now();
    const response = await slow.inject('/data/flags/cn/cn.gif');
    expect(response.statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
  });

  it('rejects bad fault options when built', () => {
    expect(() => createOriginServer({ dataSet, errorRate: 1.5 })).toThrow(FaultOptionsError);
    expect(() => createOriginServer({ dataSet, delayMs: [9, 1] })).toThrow(FaultOptionsError);
  });
});

describe('origin server: data loading', () => {
  it('loads dataDir at start', async () => {
    const fromDisk = createOriginServer({ dataDir: DEFAULT_DATA_DIR });
    servers.push(fromDisk);
    expect((await fromDisk.inject('/data/flags/se/metadata.json')).json()).toMatchObject({ country: 'Sweden' });
  });

  it('fails to start on a missing data set', async () => {
    const broken = createOriginServer({ dataDir: path.join(DEFAULT_DATA_DIR, 'missing') });
    await expect(broken.ready()).rejects.toThrow(FlagDataError);
  });

  it('needs exactly one of dataDir and dataSet', () => {
    expect(() => createOriginServer({})).toThrow(FlagDataError);
    expect(() => createOriginServer({ dataSet, dataDir: DEFAULT_DATA_DIR })).toThrow(FlagDataError);
  });
});
