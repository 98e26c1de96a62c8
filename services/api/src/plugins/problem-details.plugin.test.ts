// Errors the router raises before any route runs are problems too (found by the
// property tests), and a saved flag with a long name (up to the store's 255 bytes) is
// served, not refused by the router's parameter length.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';

let testApp: TestApp<FakeDownloadQueues> | undefined;
afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
});

describe('router errors as problems', () => {
  it.each(['/v1/downloads/%ZZ', '/v1/flags/%', '/v1/downloads/%E0%A4%A/events'])(
    'answers the malformed URL %s with a 400 problem',
    async (url) => {
      testApp = await buildTestApp();
      const response = await testApp.app.inject(url);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 400, code: 'FST_ERR_BAD_URL', instance: url.split('?')[0] });
    },
  );

  it('serves a flag whose name is 240 bytes, and refuses a longer one with a 400 problem', async () => {
    testApp = await buildTestApp();
    const name = `XX_${'é'.repeat(116)}.gif`; // 3 + 232 + 4 = 239 bytes, ~700 characters percent-encoded
    await writeFile(path.join(testApp.dir, name), Buffer.from('GIF89a'));
    const served = await testApp.app.inject(`/v1/flags/${encodeURIComponent(name)}`);
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.toString()).toBe('GIF89a');
    const tooLong = await testApp.app.inject(`/v1/flags/${'x'.repeat(300)}.gif`);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
