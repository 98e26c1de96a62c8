// DELETE /v1/downloads/:id through the HTTP layer, over in-memory queues: 202 with the
// cancelled status, the same on a repeat, 409 and 404 problems, and the route in the
// OpenAPI document. The event stream of a cancelled download ends with `cancelled`.
import { HttpContracts } from '@flagship/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, ok, snapshot, summary } from '../test-support/fixtures.ts';

let testApp: TestApp<FakeDownloadQueues>;
beforeEach(async () => {
  testApp = await buildTestApp();
});
afterEach(async () => testApp.close());

const cancel = (id = DOWNLOAD_ID) => testApp.app.inject({ method: 'DELETE', url: `/v1/downloads/${id}` });

describe('DELETE /v1/downloads/:id', () => {
  it('answers 202 with the cancelled status, and the same on a repeat', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, snapshot());
    const first = await cancel();
    expect(first.statusCode).toBe(202);
    const status = HttpContracts.downloadStatus.parse(first.json());
    expect(status).toMatchObject({ id: DOWNLOAD_ID, state: 'cancelled', total: 4, done: 0 });
    const second = await cancel();
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ state: 'cancelled', finishedAt: status.finishedAt });
    expect((await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}`)).json()).toMatchObject({ state: 'cancelled' });
  });

  it('answers 409 problem+json for a finished download', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, snapshot({ state: 'completed', returnValue: summary([ok('BR')]) }));
    const response = await cancel();
    expect(response.statusCode).toBe(409);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(HttpContracts.problem.parse(response.json())).toMatchObject({
      status: 409,
      code: 'FLAGSHIP_DOWNLOAD_FINISHED',
      instance: `/v1/downloads/${DOWNLOAD_ID}`,
    });
  });

  it('answers 404 for no such download and 400 for a malformed id', async () => {
    expect((await cancel()).statusCode).toBe(404);
    expect((await cancel('not-a-uuid')).statusCode).toBe(400);
    expect(testApp.queues.cancels.map(([id]) => id)).toEqual([DOWNLOAD_ID]);
  });

  it('is documented in the OpenAPI document with its answers', async () => {
    const spec = (await testApp.app.inject('/docs/json')).json();
    const operation = spec.paths['/v1/downloads/{id}'].delete;
    expect(operation.summary).toBe('Cancel a download');
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['202', '404', '409', '503']));
  });

  it('ends the event stream of a cancelled download with a cancelled event', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, snapshot());
    testApp.queues.onReadSnapshot = () => {
      testApp.queues.onReadSnapshot = undefined;
      void cancel().then(() => testApp.queues.emitters.downloads.emit('cancelled', { jobId: DOWNLOAD_ID }));
    };
    const body = (await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}/events`)).body;
    const events = [...body.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
    expect(events).toEqual(['status', 'cancelled']);
    // Following it afterwards: its status, and `cancelled` at once.
    const later = (await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}/events`)).body;
    expect([...later.matchAll(/^event: (\w+)$/gm)].map((match) => match[1])).toEqual(['status', 'cancelled']);
  });
});
