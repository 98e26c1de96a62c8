// SSE framing through the HTTP layer (inject buffers the stream until it ends).
import { HttpContracts } from '@flagship/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, ok, progress, snapshot, summary } from '../test-support/fixtures.ts';

let testApp: TestApp<FakeDownloadQueues>;
beforeEach(async () => {
  testApp = await buildTestApp();
});
afterEach(async () => testApp.close());

/** Parse a text/event-stream body into events, checking the framing on the way. */
function parseEvents(body: string): { event: string; data: unknown }[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .split('\n\n')
    .filter((block) => block !== '' && !block.startsWith(':'))
    .map((block) => {
      const [id, ...lines] = block.split('\n');
      expect(id).toMatch(/^id: \d+-\d+\.\d+-\d+\.[\w-]*$/); // every event has an id
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: [a-z]+$/);
      expect(lines[1]).toMatch(/^data: \{/);
      return { event: lines[0]!.slice('event: '.length), data: JSON.parse(lines[1]!.slice('data: '.length)) };
    });
}

describe('GET /v1/downloads/:id/events', () => {
  it('streams status then completed for a finished download, then ends', async () => {
    testApp.queues.snapshots.set(
      DOWNLOAD_ID,
      snapshot({ state: 'completed', returnValue: summary([ok('BR')]), chunks: [] }),
    );
    const response = await testApp.app.inject({
      url: `/v1/downloads/${DOWNLOAD_ID}/events`,
      headers: { accept: 'text/event-stream' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(response.headers['cache-control']).toBe('no-cache');
    const events = parseEvents(response.body);
    expect(events.map((e) => e.event)).toEqual(['status', 'completed']);
    expect(events[1]?.data).toMatchObject({
      id: DOWNLOAD_ID,
      state: 'completed',
      message: '1 flags downloaded in 0.04s',
    });
  });

  it('streams progress as chunks report, whatever the Accept header', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, snapshot({ data: { codes: ['BR', 'CN'] } }));
    testApp.queues.onReadSnapshot = () => {
      testApp.queues.onReadSnapshot = undefined;
      testApp.queues.emitters.flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c0`, data: progress(0, [ok('BR')]) });
      testApp.queues.emitters.downloads.emit('completed', {
        jobId: DOWNLOAD_ID,
        returnvalue: summary([ok('BR'), ok('CN')]),
      });
    };
    const response = await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}/events`);
    const events = parseEvents(response.body);
    // CN was never reported as progress (its chunk ended within one interval): it is told
    // as progress from the summary, before `completed`, so every flag is told once.
    expect(events.map((e) => e.event)).toEqual(['status', 'progress', 'progress', 'completed']);
    expect(events[1]?.data).toEqual({ done: 1, total: 2, saved: 1, notFound: 0, failed: 0, outcomes: [ok('BR')] });
    expect(events[2]?.data).toEqual({ done: 2, total: 2, saved: 2, notFound: 0, failed: 0, outcomes: [ok('CN')] });
  });

  it('ends with a failed event that says why, as the shared schema gives it', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, snapshot());
    testApp.queues.onReadSnapshot = () => {
      testApp.queues.onReadSnapshot = undefined;
      testApp.queues.emitters.downloads.emit('failed', { jobId: DOWNLOAD_ID, failedReason: 'disk full' });
    };
    const events = parseEvents((await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}/events`)).body);
    const [, last] = events.map((event) => HttpContracts.downloadEvent.parse(event));
    expect(last).toMatchObject({ event: 'failed', data: { state: 'failed', failedReason: 'disk full' } });
  });

  it('answers an unknown download with a 404 problem, not a stream', async () => {
    const response = await testApp.app.inject({
      url: `/v1/downloads/${DOWNLOAD_ID}/events`,
      headers: { accept: 'text/event-stream' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().code).toBe('FLAGSHIP_DOWNLOAD_NOT_FOUND');
  });

  it('answers a malformed id with a 400 problem', async () => {
    const response = await testApp.app.inject('/v1/downloads/..%2F..%2Fetc/events');
    expect(response.statusCode).toBe(400);
  });
});
