import net from 'node:net';
import { COUNTRY_CODES, HttpContracts } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBullmqDownloadQueues } from '../queues/bullmq-download-queues.ts';
import type { DownloadSnapshot } from '../queues/download-queues.ts';
import { buildTestApp, type TestApp } from '../test-support/test-app.ts';
import { createFakeDownloadQueues, type FakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { expectProblem } from '../test-support/problem.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let testApp: TestApp<FakeDownloadQueues>;
beforeEach(async () => {
  testApp = await buildTestApp();
});
afterEach(async () => testApp.close());

async function post(payload: unknown, headers: Record<string, string> = JSON_HEADERS) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/downloads',
    headers,
    ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
}

describe('POST /v1/downloads', () => {
  it('accepts codes: 202, the id, state, total, links and a Location header; one job is added', async () => {
    const response = await post({ codes: ['br', 'CN'] });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toEqual({
      id: expect.stringMatching(UUID),
      state: 'queued',
      total: 2,
      links: { self: `/v1/downloads/${body.id}`, events: `/v1/downloads/${body.id}/events` },
    });
    expect(response.headers.location).toBe(`/v1/downloads/${body.id}`);
    expect(testApp.queues.added).toHaveLength(1);
    expect(testApp.queues.added[0]).toMatchObject({
      shape: 'single',
      data: { codes: ['BR', 'CN'], inline: true },
      opts: { jobId: body.id },
    });
  });

  it('normalizes lower case and duplicates', async () => {
    const response = await post({ codes: ['br', 'BR', 'cn', 'Br'] });
    expect(response.json().total).toBe(2);
    expect(testApp.queues.added[0]).toMatchObject({ data: { codes: ['BR', 'CN'], inline: true } });
  });

  it.each([
    ['no body', undefined, {}],
    ['an empty JSON body', '', JSON_HEADERS],
    ['{}', {}, JSON_HEADERS],
  ])("downloads the reference's 20 codes for %s", async (_, payload, headers) => {
    const response = await post(payload, headers);
    expect(response.statusCode).toBe(202);
    expect(response.json().total).toBe(20);
  });

  it('takes every ISO code for all: true', async () => {
    const response = await post({ all: true });
    expect(response.json().total).toBe(COUNTRY_CODES.length);
    const added = testApp.queues.added[0];
    expect(added?.shape).toBe('flow');
    expect(added?.shape === 'flow' && added.flow.children).toHaveLength(Math.ceil(COUNTRY_CODES.length / 25));
  });

  it('refuses an unknown code with a 400 naming it', async () => {
    const body = expectProblem(await post({ codes: ['BR', 'ZZ'] }), 400);
    expect(body.detail).toContain('ZZ');
    expect(body.errors).toEqual([{ field: '/body/codes/1', reason: 'unknown country code "ZZ"' }]);
    expect(testApp.queues.added).toHaveLength(0);
  });

  it.each([
    ['a code that is not two letters', { codes: ['B1'] }, '/body/codes/0'],
    ['a code that is not a string', { codes: [42] }, '/body/codes/0'],
    ['an empty codes list', { codes: [] }, '/body/codes'],
    ['codes that are not a list', { codes: 'BR' }, '/body/codes'],
    ['all that is not a boolean', { all: 'yes' }, '/body/all'],
    ['an extra property', { codes: ['BR'], priority: 1 }, '/body/priority'],
    ['a body that is not an object', ['BR'], '/body'],
    ['codes and all together', { codes: ['BR'], all: true }, '/body/all'],
    ['a prototype-poisoning key', '{"__proto__": {"x": 1}}', '/body'],
  ])('refuses %s with a 400 naming the field', async (_, payload, field) => {
    const body = expectProblem(await post(payload), 400);
    if (field === '/body' && typeof payload === 'string') return; // refused by the JSON parser itself
    expect((body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
  });

  it('refuses 301 codes', async () => {
    const codes = Array.from({ length: 301 }, () => 'BR');
    const body = expectProblem(await post({ codes }), 400);
    expect(body.errors).toEqual([{ field: '/body/codes', reason: expect.stringContaining('300') }]);
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const body = expectProblem(await post('{"codes": ["BR"'), 400);
    expect(body.title).toBe('Malformed JSON');
  });

  it('answers a body that is not JSON with a 415 problem', async () => {
    expectProblem(await post('codes=BR', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
    expectProblem(await post('BR', { 'content-type': 'text/plain' }), 415);
  });

  it('answers an oversized body with a 413 problem', async () => {
    const body = expectProblem(await post(JSON.stringify({ codes: ['BR'], pad: 'x'.repeat(10_000) })), 413);
    expect(body.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  });
});

describe('GET /v1/downloads/:id', () => {
  const id = '3b241101-e2bb-4255-8caf-4136c566a962';
  const snapshot: DownloadSnapshot = {
    id,
    state: 'waiting-children',
    data: { codes: ['BR', 'CN'] },
    createdAt: Date.parse('2026-01-01T00:00:00Z'),
    chunks: [
      {
        jobId: `${id}-c0`,
        status: 'pending',
        started: true,
        progress: {
          downloadId: id,
          chunk: 0,
          total: 2,
          outcomes: [{ code: 'CN', status: 'OK', file: 'CN_China.gif', country: 'China', bytes: 10, attempts: 1 }],
        },
      },
    ],
  };

  it('reports a running download from its chunks', async () => {
    await testApp.close();
    testApp = await buildTestApp(createFakeDownloadQueues(), () => Date.parse('2026-01-01T00:00:02.5Z'));
    testApp.queues.snapshots.set(id, snapshot);
    const response = await testApp.app.inject(`/v1/downloads/${id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id,
      state: 'running',
      total: 2,
      done: 1,
      saved: 1,
      notFound: 0,
      failed: 0,
      elapsedSeconds: 2.5,
      createdAt: '2026-01-01T00:00:00.000Z',
      files: ['CN_China.gif'],
      outcomes: [{ code: 'CN', status: 'OK', file: 'CN_China.gif', country: 'China', bytes: 10, attempts: 1 }],
      links: { self: `/v1/downloads/${id}`, events: `/v1/downloads/${id}/events` },
    });
  });

  it('sends why a failed download failed, in the shape the shared schema gives', async () => {
    const finishedAt = Date.parse('2026-01-01T00:00:03Z');
    testApp.queues.snapshots.set(id, { ...snapshot, state: 'failed', failedReason: 'disk full', finishedAt });
    const response = await testApp.app.inject(`/v1/downloads/${id}`);
    expect(response.statusCode).toBe(200);
    const body: unknown = response.json();
    expect(HttpContracts.downloadStatus.parse(body)).toMatchObject({
      state: 'failed',
      failedReason: 'disk full',
      message: 'download failed: disk full',
      finishedAt: '2026-01-01T00:00:03.000Z',
    });
  });

  it('answers an unknown id with a 404 problem', async () => {
    const body = expectProblem(await testApp.app.inject(`/v1/downloads/${id}`), 404);
    expect(body.code).toBe('FLAGSHIP_DOWNLOAD_NOT_FOUND');
  });

  it.each(['not-a-uuid', '*', 'abc%0D%0AFLUSHALL', `${id}-c0`, id.toUpperCase(), '%7Bflagship%7D:downloads:x'])(
    'answers the malformed id %s with a 400 problem, without asking Redis',
    async (malformed) => {
      let reads = 0;
      testApp.queues.onReadSnapshot = () => reads++;
      const body = expectProblem(await testApp.app.inject(`/v1/downloads/${malformed}`), 400);
      expect(body.errors).toEqual([{ field: '/params/id', reason: expect.any(String) }]);
      expect(reads).toBe(0);
    },
  );
});

describe('errors', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const body = expectProblem(await testApp.app.inject('/v2/nothing'), 404);
    expect(body.detail).toContain('/v2/nothing');
  });

  it('answers a bug with a 500 problem that does not leak the error', async () => {
    testApp.queues.onReadSnapshot = () => {
      throw new Error('secret internals');
    };
    const response = await testApp.app.inject('/v1/downloads/3b241101-e2bb-4255-8caf-4136c566a962');
    const body = expectProblem(response, 500);
    expect(response.body).not.toContain('secret');
    expect(body.code).toBe('FLAGSHIP_INTERNAL');
  });
});

describe('with Redis down', () => {
  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('answers 503 problems at once, and does not crash', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const producer = createRedisClient({ mode: 'standalone', url: url }, 'producer');
    const events = createRedisClient({ mode: 'standalone', url: url }, 'events');
    producer.on('error', () => {});
    events.on('error', () => {});
    const queues = createBullmqDownloadQueues({ connection: producer, eventsConnection: events, timeoutMs: 200 });
    const down = await buildTestApp(queues);
    try {
      const started = performance.now();
      const submitted = await down.app.inject({ method: 'POST', url: '/v1/downloads', payload: { codes: ['BR'] } });
      const status = await down.app.inject('/v1/downloads/3b241101-e2bb-4255-8caf-4136c566a962');
      const ready = await down.app.inject('/readyz');
      const events503 = await down.app.inject('/v1/downloads/3b241101-e2bb-4255-8caf-4136c566a962/events');
      expect(performance.now() - started).toBeLessThan(1_000);
      for (const response of [submitted, status, ready, events503]) {
        expect(expectProblem(response, 503).code).toBe('FLAGSHIP_QUEUE_UNAVAILABLE');
        expect(response.headers['retry-after']).toBe('5');
      }
      expect((await down.app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await down.close();
      producer.disconnect();
      events.disconnect();
    }
  });
});
