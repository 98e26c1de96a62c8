import { REFERENCE_CODES } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { IdempotencyKeyInProgressError, IdempotencyKeyReusedError, InvalidRequestError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { acceptDownload, parseIdempotencyKey, requestFingerprint } from './idempotency.ts';

const ID1 = '00000000-0000-4000-8000-000000000001';
const ID2 = '00000000-0000-4000-8000-000000000002';

function setup(overrides: Partial<Parameters<typeof createFakeDownloadQueues>[0]> = {}) {
  const queues = createFakeDownloadQueues(overrides);
  const ids = [ID1, ID2];
  let clock = 0;
  const slept: number[] = [];
  const deps = {
    queues,
    chunkSize: 25,
    idempotencyTtlSeconds: 60,
    idempotencyWaitMs: 1_000,
    newId: () => ids.shift() ?? 'no more ids',
    now: () => clock,
    sleep: async (ms: number) => {
      slept.push(ms);
      clock += ms;
    },
  };
  return { queues, deps, slept };
}

describe('parseIdempotencyKey', () => {
  it.each([
    ['abc', 'abc'],
    ['"abc"', 'abc'],
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"with \\"quotes\\" and \\\\"', 'with "quotes" and \\'],
    ['"', '"'],
    ['a "quoted" word', 'a "quoted" word'],
  ])('reads %s as the key %s', (header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it.each(['""', '"a"b"', '"bad \\escape"', '"trailing \\"'])('refuses %s with a 400', (header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(InvalidRequestError);
  });
});

describe('requestFingerprint', () => {
  it('is the same for the same codes and differs with their set or order', () => {
    expect(requestFingerprint(['CN', 'IN'])).toBe(requestFingerprint(['CN', 'IN']));
    expect(requestFingerprint(['CN', 'IN'])).not.toBe(requestFingerprint(['IN', 'CN']));
    expect(requestFingerprint(['CN'])).not.toBe(requestFingerprint(['CN', 'IN']));
    expect(requestFingerprint(['CN'])).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('acceptDownload', () => {
  it('creates a download without a key, every time', async () => {
    const { queues, deps } = setup();
    expect(await acceptDownload({}, undefined, deps)).toMatchObject({ accepted: { id: ID1 }, replayed: false });
    expect(await acceptDownload({}, undefined, deps)).toMatchObject({ accepted: { id: ID2 }, replayed: false });
    expect(queues.added).toHaveLength(2);
    expect(queues.idempotencyKeys.calls).toEqual([]);
  });

  it('answers the same key and the same (normalized) body with the download it created, as a replay', async () => {
    const { queues, deps } = setup();
    const first = await acceptDownload({ codes: ['cn', 'IN'] }, 'k1', deps);
    expect(first).toEqual({
      accepted: { id: ID1, state: 'queued', total: 2, links: expect.any(Object) },
      replayed: false,
    });
    const again = await acceptDownload({ codes: ['CN', 'in', 'cn'] }, '"k1"', deps);
    expect(again).toEqual({ accepted: { ...first.accepted, replayed: true }, replayed: true });
    expect(queues.added).toHaveLength(1);
    expect(queues.idempotencyKeys.entries.get('k1')).toMatchObject({ downloadId: ID1, state: 'done', total: 2 });
  });

  it('refuses the same key with another body: 422, nothing added', async () => {
    const { queues, deps } = setup();
    await acceptDownload({}, 'k1', deps);
    await expect(acceptDownload({ codes: ['CN'] }, 'k1', deps)).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(queues.added).toHaveLength(1);
  });

  it('waits for the first request with the key to add its download, then replays it', async () => {
    const { queues, deps, slept } = setup();
    const fingerprint = requestFingerprint(REFERENCE_CODES);
    const pending = { fingerprint, downloadId: ID2, total: 20, state: 'pending' as const };
    queues.idempotencyKeys.entries.set('k1', pending);
    const realRead = queues.idempotencyKeys.read;
    let reads = 0;
    queues.idempotencyKeys.read = async (key) => {
      if (++reads === 3) queues.idempotencyKeys.entries.set(key, { ...pending, state: 'done' });
      return realRead(key);
    };
    expect(await acceptDownload({}, 'k1', deps)).toMatchObject({ accepted: { id: ID2 }, replayed: true });
    expect(slept).toEqual([10, 20, 40]);
    expect(queues.added).toHaveLength(0);
  });

  it('answers 409 when the first request is still adding its download after the wait', async () => {
    const { queues, deps, slept } = setup();
    const pending = { fingerprint: requestFingerprint(REFERENCE_CODES), downloadId: ID2, total: 20, state: 'pending' };
    queues.idempotencyKeys.entries.set('k1', pending as never);
    await expect(acceptDownload({}, 'k1', deps)).rejects.toBeInstanceOf(IdempotencyKeyInProgressError);
    expect(slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...slept)).toBe(100);
    expect(queues.added).toHaveLength(0);
  });

  it('claims the key itself when the first request failed and freed it', async () => {
    const { queues, deps } = setup();
    const pending = { fingerprint: requestFingerprint(REFERENCE_CODES), downloadId: ID2, total: 20, state: 'pending' };
    queues.idempotencyKeys.entries.set('k1', pending as never);
    queues.idempotencyKeys.read = async (key) => {
      queues.idempotencyKeys.entries.delete(key); // the first request releases the key
      return undefined;
    };
    expect(await acceptDownload({}, 'k1', deps)).toMatchObject({ accepted: { id: ID1 }, replayed: false });
    expect(queues.added).toHaveLength(1);
  });

  it('frees the key when its download cannot be added, so a retry of the request can create it', async () => {
    let fail = true;
    const { queues, deps } = setup({
      addDownload: async () => {
        if (fail) throw new Error('Redis is down');
      },
    });
    await expect(acceptDownload({}, 'k1', deps)).rejects.toThrow('Redis is down');
    expect(queues.idempotencyKeys.entries.has('k1')).toBe(false);
    fail = false;
    expect(await acceptDownload({}, 'k1', deps)).toMatchObject({ accepted: { id: ID2 }, replayed: false });
  });
});
