import { describe, expect, it } from 'vitest';
import {
  conditionalHeaders,
  createRedisValidatorStore,
  responseValidators,
  validatorsKey,
  type FlagValidators,
} from './flag-validators.ts';

const RECORD: FlagValidators = {
  url: 'http://origin/data/flags/cn/cn.gif',
  file: 'CN_China.gif',
  bytes: 1234,
  country: 'China',
  gif: { etag: '"g1"', lastModified: 'Sun, 01 Mar 2026 12:00:00 GMT' },
  metadata: { etag: '"m1"' },
};

/** The two hash commands the store uses, on a Map, counting calls. */
function fakeRedis() {
  const hashes = new Map<string, Map<string, string>>();
  const calls: string[] = [];
  let failing = false;
  const hash = (key: string) => hashes.get(key) ?? hashes.set(key, new Map()).get(key)!;
  return {
    calls,
    hashes,
    fail: (on: boolean) => (failing = on),
    redis: {
      async hmget(key: string, ...fields: string[]) {
        calls.push(`HMGET ${key} ${fields.join(' ')}`);
        if (failing) throw new Error('connection lost');
        return fields.map((field) => hash(key).get(field) ?? null);
      },
      async hset(key: string, values: Record<string, string>) {
        calls.push(`HSET ${key} ${Object.keys(values).join(' ')}`);
        if (failing) throw new Error('connection lost');
        for (const [field, value] of Object.entries(values)) hash(key).set(field, value);
        return Object.keys(values).length;
      },
    },
  };
}

describe('createRedisValidatorStore', () => {
  it('reads the codes asked for at once in one HMGET of {prefix}:validators, and writes in one HSET', async () => {
    const fake = fakeRedis();
    const store = createRedisValidatorStore(fake.redis as never, { keyPrefix: '{flagship}' });
    await Promise.all([store.set('CN', RECORD), store.set('IN', { ...RECORD, file: 'IN_India.gif' })]);
    const [cn, india, us] = await Promise.all(['CN', 'IN', 'US'].map((code) => store.get(code)));
    expect(cn).toEqual(RECORD);
    expect(india?.file).toBe('IN_India.gif');
    expect(us).toBeUndefined();
    expect(fake.calls).toEqual(['HSET {flagship}:validators CN IN', 'HMGET {flagship}:validators CN IN US']);
    expect(validatorsKey('{flagship}')).toBe('{flagship}:validators');
  });

  it('ignores a record that is not JSON or not a record (Redis is a trust boundary)', async () => {
    const fake = fakeRedis();
    const store = createRedisValidatorStore(fake.redis as never, { keyPrefix: 'p' });
    fake.hashes.set(
      'p:validators',
      new Map([
        ['CN', '{not json'],
        ['IN', JSON.stringify({ ...RECORD, bytes: -1 })],
        ['US', JSON.stringify({ ...RECORD, gif: { etag: 'x'.repeat(600) } })],
      ]),
    );
    expect(await Promise.all(['CN', 'IN', 'US'].map((code) => store.get(code)))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('reports a Redis failure and answers "none" instead of failing the flag', async () => {
    const fake = fakeRedis();
    const errors: unknown[] = [];
    const store = createRedisValidatorStore(fake.redis as never, { keyPrefix: 'p', onError: (e) => errors.push(e) });
    fake.fail(true);
    expect(await store.get('CN')).toBeUndefined();
    await expect(store.set('CN', RECORD)).resolves.toBeUndefined();
    expect(errors.map((e) => (e as Error).message)).toEqual(['connection lost', 'connection lost']);
  });
});

describe('conditional headers', () => {
  it('sends If-None-Match and If-Modified-Since for what is known, nothing without validators', () => {
    expect(conditionalHeaders(RECORD.gif)).toEqual({
      'if-none-match': '"g1"',
      'if-modified-since': 'Sun, 01 Mar 2026 12:00:00 GMT',
    });
    expect(conditionalHeaders({ etag: 'W/"m"' })).toEqual({ 'if-none-match': 'W/"m"' });
    expect(conditionalHeaders(undefined)).toEqual({});
  });

  it("keeps a response's ETag and Last-Modified, and drops oversized ones", () => {
    expect(responseValidators({ etag: '"a"', 'last-modified': 'Sun, 01 Mar 2026 12:00:00 GMT', other: 'x' })).toEqual({
      etag: '"a"',
      lastModified: 'Sun, 01 Mar 2026 12:00:00 GMT',
    });
    expect(responseValidators({ etag: 'x'.repeat(513) })).toEqual({});
  });
});
