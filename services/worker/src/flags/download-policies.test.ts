import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createDownloadPolicies } from './download-policies.ts';

/** A Redis double that records every call: the policies must make none when built. */
function recordingRedis() {
  const calls: string[] = [];
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push(`${name} ${args.join(' ')}`);
      return name === 'hmget' ? [null] : 0;
    };
  return {
    calls,
    redis: { evalsha: record('evalsha'), eval: record('eval'), hmget: record('hmget'), hset: record('hset') },
  };
}

describe('worker configuration of flag downloads', () => {
  it('defaults: a 30 s deadline per flag, no other redirect hosts, no rate limit', () => {
    expect(loadConfig({})).toMatchObject({ flagDeadlineMs: 30_000, originAllowedHosts: '', originRateLimit: 0 });
  });

  it('reads them', () => {
    const config = loadConfig({
      FLAG_DEADLINE_MS: '5000',
      ORIGIN_ALLOWED_HOSTS: 'cdn.example, [::1]:8443',
      ORIGIN_RATE_LIMIT: '2.5',
    });
    expect(config).toMatchObject({
      flagDeadlineMs: 5_000,
      originAllowedHosts: 'cdn.example, [::1]:8443',
      originRateLimit: 2.5,
    });
  });

  it.each([
    ['FLAG_DEADLINE_MS', '50'],
    ['FLAG_DEADLINE_MS', 'soon'],
    ['ORIGIN_ALLOWED_HOSTS', 'http://cdn.example/'],
    ['ORIGIN_RATE_LIMIT', '-1'],
    ['ORIGIN_RATE_LIMIT', 'fast'],
  ])('rejects %s=%j with an error naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('createDownloadPolicies', () => {
  const options = { deadlineMs: 30_000, allowedHosts: ' CDN.example ,', keyPrefix: '{flagship}' };

  it('with no rate limit, builds no limiter (so no Redis call is made for it)', () => {
    const { redis, calls } = recordingRedis();
    const policies = createDownloadPolicies({ ...options, rateLimitPerSecond: 0, redis: redis as never });
    expect(policies.rateLimiter).toBeUndefined();
    expect(policies.allowedHosts).toEqual(['cdn.example']);
    expect(policies.deadlineMs).toBe(30_000);
    expect(policies.validators).toBeDefined();
    expect(calls).toEqual([]);
  });

  it('with a rate limit, asks the Redis bucket of the host under the prefix', async () => {
    const { redis, calls } = recordingRedis();
    const policies = createDownloadPolicies({ ...options, rateLimitPerSecond: 10, redis: redis as never });
    expect(await policies.rateLimiter?.acquire('origin:8080', 1_000, new AbortController().signal)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^evalsha [0-9a-f]{40} 1 \{flagship\}:ratelimit:origin:8080 100000$/);
  });
});
