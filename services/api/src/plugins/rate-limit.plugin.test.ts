// Rate limiting through the app: per key (per address when open), 429 problem+json with
// Retry-After, public routes never limited, and a Redis that fails or does not answer
// lets requests through instead of failing or holding them.
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { parseApiKeys } from '../auth/api-keys.ts';
import { buildApp } from '../app.ts';
import { buildTestAppWith, TEST_CONFIG, type TestApp } from '../test-support/test-app.ts';
import { createFakeDownloadQueues, type FakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { createLocalFlagStore } from '@flagship/common';

const ONE = 'first-key-0123456789';
const TWO = 'second-key-0123456789';
const LIMIT = { max: 3, windowMs: 60_000 };

let testApp: TestApp<FakeDownloadQueues> | undefined;
afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
});

function submit(app: TestApp<FakeDownloadQueues>['app'], key?: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/downloads',
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
}

describe('rate limit', () => {
  it('answers the request past the limit with 429 problem+json and Retry-After, per key', async () => {
    testApp = await buildTestAppWith({
      config: { rateLimit: LIMIT, apiKeys: parseApiKeys(`one:${ONE}:submit,two:${TWO}:submit`) },
    });
    const { app } = testApp;
    for (let n = 0; n < 3; n++) expect((await submit(app, ONE)).statusCode).toBe(202);
    const limited = await submit(app, ONE);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.json()).toMatchObject({
      status: 429,
      code: 'FLAGSHIP_RATE_LIMITED',
      title: 'Too many requests',
      detail: expect.stringContaining('more than 3 requests in 60000 ms'),
    });
    // Another key has its own count; health and readiness are never limited.
    expect((await submit(app, TWO)).statusCode).toBe(202);
    for (let n = 0; n < 5; n++) expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect(testApp.queues.added).toHaveLength(4);
  });

  it('counts per client address when the API runs open', async () => {
    testApp = await buildTestAppWith({ config: { rateLimit: { max: 1, windowMs: 60_000 } } });
    const { app } = testApp;
    const from = (remoteAddress: string) => app.inject({ method: 'POST', url: '/v1/downloads', remoteAddress });
    expect((await from('10.0.0.1')).statusCode).toBe(202);
    expect((await from('10.0.0.1')).statusCode).toBe(429);
    expect((await from('10.0.0.2')).statusCode).toBe(202);
  });

  it('limits nothing with max 0', async () => {
    testApp = await buildTestAppWith({ config: { rateLimit: { max: 0, windowMs: 1_000 } } });
    for (let n = 0; n < 5; n++) expect((await submit(testApp.app)).statusCode).toBe(202);
  });

  it.each([
    ['is not connected', { status: 'reconnecting' }],
    ['never answers', { status: 'ready' }],
    ['fails', { status: 'ready', fail: true }],
  ])('lets requests through when Redis %s', async (_, behaviour) => {
    const commands: string[] = [];
    const fake: Record<string, unknown> = {
      status: behaviour.status,
      defineCommand(name: string) {
        fake[name] = (key: string, ...args: unknown[]) => {
          commands.push(key);
          const callback = args.at(-1) as (error: Error | null) => void;
          if ('fail' in behaviour) callback(new Error('READONLY You cannot write against a read only replica.'));
          // otherwise: no answer at all
        };
      },
    };
    const redis = fake as unknown as Redis;
    const queues = createFakeDownloadQueues();
    const app = await buildApp({
      config: { ...TEST_CONFIG, rateLimit: { max: 1, windowMs: 60_000 }, redisTimeoutMs: 50 },
      queues,
      store: createLocalFlagStore('/nonexistent'),
      rateLimitRedis: redis,
    });
    try {
      for (let n = 0; n < 3; n++)
        expect((await app.inject({ method: 'POST', url: '/v1/downloads' })).statusCode).toBe(202);
      expect(commands.length).toBe(behaviour.status === 'ready' ? 3 : 0);
      expect(commands.every((key) => key.startsWith('flagship:rate-limit:ip:'))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
