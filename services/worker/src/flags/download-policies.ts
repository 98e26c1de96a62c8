// The parts of a flag download that come from settings and shared state rather than
// from the flag: its deadline, the hosts redirects may reach, the shared rate limit and
// the remembered validators, both in Redis. Built once per worker process from plain
// options (flag-worker.ts maps the configuration onto them).
import type { RedisClient } from '@flagship/common';
import type { DownloadFlagDeps } from './download-flag.ts';
import { createRedisValidatorStore } from './flag-validators.ts';
import { createRedisRateLimiter } from './origin-rate-limit.ts';
import { parseAllowedHosts } from './redirect-policy.ts';

export interface DownloadPoliciesOptions {
  /** Longest time for one flag, all attempts and waits included. */
  deadlineMs: number;
  /** Comma-separated hosts (`host` or `host:port`) redirects may lead to besides the origin's own. */
  allowedHosts: string;
  /** Requests per second per origin host across all workers; 0: no limit and no Redis call. */
  rateLimitPerSecond: number;
  /** The worker's shared Redis connection (the rate limiter's bucket, the validators hash). */
  redis: Pick<RedisClient, 'evalsha' | 'eval' | 'hmget' | 'hset'>;
  /** Prefix of the shared keys: the queues' prefix. */
  keyPrefix: string;
  /** A Redis call for validators failed (the flag is then downloaded in full). */
  onValidatorsError?: (error: unknown) => void;
}

export function createDownloadPolicies(
  options: DownloadPoliciesOptions,
): Pick<DownloadFlagDeps, 'deadlineMs' | 'allowedHosts' | 'rateLimiter' | 'validators'> {
  const { redis, keyPrefix } = options;
  return {
    deadlineMs: options.deadlineMs,
    allowedHosts: parseAllowedHosts(options.allowedHosts),
    validators: createRedisValidatorStore(redis, { keyPrefix, onError: options.onValidatorsError }),
    ...(options.rateLimitPerSecond > 0
      ? { rateLimiter: createRedisRateLimiter(redis, { requestsPerSecond: options.rateLimitPerSecond, keyPrefix }) }
      : {}),
  };
}
