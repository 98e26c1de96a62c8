// The control plane over HTTP (fake queues and index): the list and its query, retry,
// Idempotency-Key on submit, retryOf in a status, and 410 Gone past the retention.
import { HttpContracts, MAX_LIST_LIMIT, type DownloadList } from '@flagship/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../downloads/list-downloads.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, completedSnapshot, notFound, ok, snapshot } from '../test-support/fixtures.ts';
import { expectProblem } from '../test-support/problem.ts';
import { buildTestApp, type TestApp } from '../test-support/test-app.ts';

let testApp: TestApp<FakeDownloadQueues>;
beforeEach(async () => {
  testApp = await buildTestApp();
});
afterEach(async () => testApp.close());

const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function list(query = ''): Promise<DownloadList> {
  const response = await testApp.app.inject(`/v1/downloads${query}`);
  expect(response.statusCode).toBe(200);
  return HttpContracts.downloadList.parse(response.json());
}

describe('OpenAPI', () => {
  it('documents the list, the retry and the Idempotency-Key header', async () => {
    const spec = (await testApp.app.inject('/docs/json')).json();
    expect(spec.paths['/v1/downloads'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'cursor',
      'limit',
      'state',
    ]);
    expect(spec.paths['/v1/downloads/{id}/retry'].post.responses).toHaveProperty('409');
    expect(spec.paths['/v1/downloads'].post.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]),
    );
  });
});

describe('GET /v1/downloads', () => {
  it('answers an empty list', async () => {
    expect(await list()).toEqual({ items: [], nextCursor: null });
  });

  it('pages newest first, 20 by default, each download once', async () => {
    for (let n = 0; n < 45; n++) testApp.queues.index.put({ id: idOf(n), createdAt: 1_000 + n, total: 1 });
    const first = await list();
    expect(first.items).toHaveLength(20);
    expect(first.items[0]).toMatchObject({ id: idOf(44), state: 'queued', total: 1, done: 0 });
    const seen = [...first.items];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = await list(`?limit=20&cursor=${cursor}`);
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(seen.map((item) => item.id)).toEqual(Array.from({ length: 45 }, (_, n) => idOf(44 - n)));
  });

  it('filters by state', async () => {
    testApp.queues.index.put({ id: idOf(1), state: 'completed', finishedAt: 2_000, createdAt: 1_000 });
    testApp.queues.index.put({ id: idOf(2), state: 'running', createdAt: 1_001 });
    const { items } = await list('?state=completed&limit=100');
    expect(items).toEqual([expect.objectContaining({ id: idOf(1), finishedAt: new Date(2_000).toISOString() })]);
  });

  it.each([
    ['a limit above the most', `?limit=${MAX_LIST_LIMIT + 1}`, '/querystring/limit'],
    ['a limit of 0', '?limit=0', '/querystring/limit'],
    ['an unknown state', '?state=lost', '/querystring/state'],
    ['a cursor this API never gave', '?cursor=bm90LWEtY3Vyc29y', '/querystring/cursor'],
  ])('answers %s with a 400 problem', async (_, query, field) => {
    const body = expectProblem(await testApp.app.inject(`/v1/downloads${query}`), 400);
    expect(body.errors).toEqual([expect.objectContaining({ field })]);
  });

  it('accepts the cursor of a download that has gone since', async () => {
    testApp.queues.index.put({ id: idOf(1), createdAt: 1_000 });
    const page = await list(`?cursor=${encodeCursor({ createdAt: 1_500, id: idOf(9) })}`);
    expect(page.items.map((item) => item.id)).toEqual([idOf(1)]);
  });
});

describe('POST /v1/downloads/:id/retry', () => {
  const finished = () => completedSnapshot([ok('BR'), notFound('CN')]);

  it('answers 202 with the new download, its Location and retryOf; its status says retryOf too', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, finished());
    const response = await testApp.app.inject({
      method: 'POST',
      url: `/v1/downloads/${DOWNLOAD_ID}/retry?include=not_found`,
    });
    expect(response.statusCode).toBe(202);
    const accepted = HttpContracts.downloadAccepted.parse(response.json());
    expect(accepted).toMatchObject({ state: 'queued', total: 1, retryOf: DOWNLOAD_ID });
    expect(response.headers.location).toBe(`/v1/downloads/${accepted.id}`);
    // The new download's status and list item name the download it retries.
    const added = testApp.queues.added[0];
    testApp.queues.snapshots.set(
      accepted.id,
      snapshot({ id: accepted.id, data: added?.shape === 'single' ? added.data : {} }),
    );
    const status = HttpContracts.downloadStatus.parse(
      (await testApp.app.inject(`/v1/downloads/${accepted.id}`)).json(),
    );
    expect(status.retryOf).toBe(DOWNLOAD_ID);
    expect((await list()).items).toEqual([expect.objectContaining({ id: accepted.id, retryOf: DOWNLOAD_ID })]);
  });

  it('answers 409 when there is nothing to retry, or the download is not finished', async () => {
    testApp.queues.snapshots.set(DOWNLOAD_ID, finished());
    const nothing = expectProblem(
      await testApp.app.inject({ method: 'POST', url: `/v1/downloads/${DOWNLOAD_ID}/retry` }),
      409,
    );
    expect(nothing.detail).toContain('include=not_found');
    testApp.queues.snapshots.set(DOWNLOAD_ID, snapshot());
    expectProblem(await testApp.app.inject({ method: 'POST', url: `/v1/downloads/${DOWNLOAD_ID}/retry` }), 409);
    expect(testApp.queues.added).toHaveLength(0);
  });

  it('answers 404 for an unknown download, 410 past its retention, 400 for another include', async () => {
    const url = `/v1/downloads/${DOWNLOAD_ID}/retry`;
    expect(expectProblem(await testApp.app.inject({ method: 'POST', url }), 404).code).toBe(
      'FLAGSHIP_DOWNLOAD_NOT_FOUND',
    );
    testApp.queues.index.expired.add(DOWNLOAD_ID);
    expect(expectProblem(await testApp.app.inject({ method: 'POST', url }), 410).code).toBe('FLAGSHIP_DOWNLOAD_GONE');
    expectProblem(await testApp.app.inject({ method: 'POST', url: `${url}?include=everything` }), 400);
  });
});

describe('410 Gone', () => {
  it('answers the status and the events of a download past its retention with 410, an unknown one with 404', async () => {
    testApp.queues.index.expired.add(DOWNLOAD_ID);
    expectProblem(await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}`), 410);
    expectProblem(await testApp.app.inject(`/v1/downloads/${DOWNLOAD_ID}/events`), 410);
    expectProblem(await testApp.app.inject(`/v1/downloads/${idOf(1)}`), 404);
  });

  it('answers 410 for a finished download whose jobs BullMQ removed, 404 for one not yet added', async () => {
    testApp.queues.index.put({ id: idOf(1), state: 'completed', finishedAt: 2 });
    testApp.queues.index.put({ id: idOf(2), state: 'queued' });
    expectProblem(await testApp.app.inject(`/v1/downloads/${idOf(1)}`), 410);
    expectProblem(await testApp.app.inject(`/v1/downloads/${idOf(2)}`), 404);
  });
});

describe('POST /v1/downloads with an Idempotency-Key', () => {
  const post = (key: string, payload: unknown = { codes: ['br'] }) =>
    testApp.app.inject({
      method: 'POST',
      url: '/v1/downloads',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      payload: JSON.stringify(payload),
    });

  it('replays the download the key created: same 202 and Location, replayed, Idempotent-Replayed: true', async () => {
    const first = await post('order-1');
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post('"order-1"', { codes: ['BR'] });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(HttpContracts.downloadAccepted.parse(again.json())).toEqual({ ...first.json(), replayed: true });
    expect(testApp.queues.added).toHaveLength(1);
  });

  it('answers the key with another body with a 422 problem', async () => {
    await post('order-2');
    const body = expectProblem(await post('order-2', { codes: ['cn'] }), 422);
    expect(body.code).toBe('FLAGSHIP_IDEMPOTENCY_KEY_REUSED');
    expect(testApp.queues.added).toHaveLength(1);
  });

  it.each([
    ['longer than 255 characters', 'k'.repeat(256)],
    ['not printable ASCII', 'caf\u00e9'],
    ['an empty quoted string', '""'],
  ])('refuses a key %s with a 400 problem naming the header', async (_, key) => {
    const body = expectProblem(await post(key), 400);
    expect(body.errors).toEqual([expect.objectContaining({ field: '/headers/idempotency-key' })]);
    expect(testApp.queues.added).toHaveLength(0);
  });
});
