import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';

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
