import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalFlagStore, type FlagStore } from '@flagship/common';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { TEST_CONFIG, buildFlagDeliveryApp, buildTestApp, type TestApp } from '../test-support/test-app.ts';
import { createFakeDownloadQueues, type FakeDownloadQueues } from '../test-support/fake-download-queues.ts';

let testApp: TestApp<FakeDownloadQueues>;
beforeEach(async () => {
  testApp = await buildTestApp();
});
afterEach(async () => testApp.close());

describe('GET /v1/flags/:file', () => {
  it('serves a saved flag byte for byte, as image/gif with length and cache headers', async () => {
    const bytes = Buffer.concat([Buffer.from('GIF89a'), randomBytes(3_000)]);
    await writeFile(path.join(testApp.dir, 'BR_Brazil.gif'), bytes);
    const response = await testApp.app.inject('/v1/flags/BR_Brazil.gif');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/gif');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(response.headers['last-modified']).toEqual(expect.any(String));
    expect(response.rawPayload.equals(bytes)).toBe(true);

    const again = await testApp.app.inject({
      url: '/v1/flags/BR_Brazil.gif',
      headers: { 'if-none-match': String(response.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload).toHaveLength(0);
  });

  it('answers a missing flag with a 404 problem', async () => {
    const response = await testApp.app.inject('/v1/flags/ZZ_Nowhere.gif');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().code).toBe('FLAGSHIP_FLAG_NOT_FOUND');
  });

  it('does not serve files that are not flags', async () => {
    await writeFile(path.join(testApp.dir, 'notes.txt'), 'secret');
    const response = await testApp.app.inject('/v1/flags/notes.txt');
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('secret');
  });

  it.each([
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '..%5C..%5Cwindows%5Cwin.ini',
    'BR_Brazil.gif%00.png',
    '.hidden.gif',
    '%2Eabc123.tmp',
    'a%0Ab.gif',
    '%2Fetc%2Fpasswd',
  ])('refuses the path trick %s with a 400 problem', async (trick) => {
    await writeFile(path.join(testApp.dir, '.hidden.gif'), 'hidden');
    const response = await testApp.app.inject(`/v1/flags/${trick}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 400, errors: [{ field: '/params/file' }] });
    expect(response.body).not.toContain('root:');
    expect(response.body).not.toContain('hidden"');
  });

  it.each(['../../etc/passwd', '/../../etc/passwd', 'a/b.gif', '%2e%2e', '%2e%2e/%2e%2e/etc/passwd'])(
    'answers the unencoded path %s with a 4xx problem, never a file',
    async (trick) => {
      const response = await testApp.app.inject(`/v1/flags/${trick}`);
      expect([400, 404]).toContain(response.statusCode);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).not.toContain('root:');
    },
  );
});

describe('GET /v1/flags/:file, redirect and conditional requests', () => {
  const bytes = Buffer.concat([Buffer.from('GIF89a'), randomBytes(500)]);
  let dir: string;
  let opens: number;
  let presigned: Array<[string, number]>;
  let app: FastifyInstance;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flagship-flags-'));
    await writeFile(path.join(dir, 'BR_Brazil.gif'), bytes);
    const local = createLocalFlagStore(dir);
    opens = 0;
    presigned = [];
    const store: FlagStore = {
      save: (name, data) => local.save(name, data),
      stat: (name) => local.stat!(name),
      open: (name) => {
        opens++;
        return local.open(name);
      },
      presign: async (name, seconds) => {
        presigned.push([name, seconds]);
        return `http://store.example/flags/${encodeURIComponent(name)}?X-Amz-Expires=${seconds}`;
      },
    };
    app = await buildFlagDeliveryApp(store, { mode: 'redirect', urlTtlSeconds: 120 });
  });
  afterEach(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('redirects to a presigned URL with the ETag, cached for half its life, and opens nothing', async () => {
    const response = await app.inject('/v1/flags/BR_Brazil.gif');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('http://store.example/flags/BR_Brazil.gif?X-Amz-Expires=120');
    expect(response.headers['cache-control']).toBe('private, max-age=60');
    expect(response.headers.etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(presigned).toEqual([['BR_Brazil.gif', 120]]);
    expect(opens).toBe(0);
  });

  it('answers a matching If-None-Match with 304 without presigning, and 404/400 as the stream does', async () => {
    const { etag } = (await app.inject('/v1/flags/BR_Brazil.gif')).headers;
    presigned = [];
    const again = await app.inject({ url: '/v1/flags/BR_Brazil.gif', headers: { 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
    expect(presigned).toEqual([]);
    expect((await app.inject('/v1/flags/ZZ_Nowhere.gif')).statusCode).toBe(404);
    expect((await app.inject('/v1/flags/..%2Fescape.gif')).statusCode).toBe(400);
    expect((await app.inject('/v1/flags/notes.txt')).statusCode).toBe(404);
    expect(presigned).toEqual([]);
  });

  it('refuses to start in redirect mode on a store that cannot presign', async () => {
    const local = createLocalFlagStore(dir);
    await expect(buildFlagDeliveryApp(local, { mode: 'redirect', urlTtlSeconds: 60 })).rejects.toThrow(
      /needs a store that presigns URLs/,
    );
  });
});

describe('GET /v1/flags/:file, stream, conditional request', () => {
  it('answers a matching If-None-Match from a stat, without opening the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flagship-flags-'));
    await writeFile(path.join(dir, 'CN_China.gif'), 'GIF89a-cn');
    const local = createLocalFlagStore(dir);
    let opens = 0;
    const app = await buildApp({
      config: TEST_CONFIG,
      queues: createFakeDownloadQueues(),
      store: { ...local, open: (name) => (opens++, local.open(name)) },
    });
    try {
      const { etag } = (await app.inject('/v1/flags/CN_China.gif')).headers;
      expect(opens).toBe(1);
      const again = await app.inject({ url: '/v1/flags/CN_China.gif', headers: { 'if-none-match': String(etag) } });
      expect(again.statusCode).toBe(304);
      expect(again.headers.etag).toBe(etag);
      expect(opens).toBe(1);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
