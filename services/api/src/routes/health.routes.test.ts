import { describe, expect, it } from 'vitest';
import { QueueUnavailableError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { buildTestApp } from '../test-support/test-app.ts';

describe('health', () => {
  it('says alive on /healthz and ready on /readyz when Redis answers', async () => {
    const { app, close } = await buildTestApp();
    try {
      expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready' });
    } finally {
      await close();
    }
  });

  it('answers /readyz with a 503 problem when Redis does not, while /healthz stays 200', async () => {
    const queues = createFakeDownloadQueues({
      ping: () => Promise.reject(new QueueUnavailableError('Redis did not answer PING within 1000 ms')),
    });
    const { app, close } = await buildTestApp(queues);
    try {
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(ready.json()).toMatchObject({
        code: 'FLAGSHIP_QUEUE_UNAVAILABLE',
        detail: expect.stringContaining('PING'),
      });
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await close();
    }
  });

  it('closes the queues it was given when the app closes', async () => {
    const { queues, close } = await buildTestApp();
    await close();
    expect(queues.closeCalls).toBe(1);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const { app, close } = await buildTestApp();
    try {
      const spec = (await app.inject('/docs/json')).json();
      expect(Object.keys(spec.paths)).toEqual(
        expect.arrayContaining([
          '/v1/downloads',
          '/v1/downloads/{id}',
          '/v1/downloads/{id}/events',
          '/v1/flags/{file}',
        ]),
      );
      expect((await app.inject('/docs/')).statusCode).toBe(200);
    } finally {
      await close();
    }
  });
});
