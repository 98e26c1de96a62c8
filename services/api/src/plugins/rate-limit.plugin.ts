// Rate limiting with @fastify/rate-limit: at most `max` requests per `windowMs` for each
// API key (by its name), or for each client address when the API runs open. Public
// routes (health, readiness, docs) are not limited. Counters live in Redis (the
// plugin's own Redis store, on the API's producer connection) so every API process
// shares them, or in memory when no Redis is given. Redis failing never fails a request
// here: a count that Redis does not answer within `timeoutMs` lets the request through
// (skipOnError), and the route itself answers 503 if it needs Redis. Over the limit:
// 429 problem+json with Retry-After (seconds until the window resets).
import { createRequire } from 'node:module';
import fastifyRateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RedisClient } from '@flagship/common';
import { RateLimitedError } from '../errors.ts';
import { scopeOfRequest } from './api-keys.plugin.ts';

export interface RateLimitPluginSettings {
  /** Requests per window per key (or per address when open); 0: no limit (the plugin is not registered). */
  max: number;
  windowMs: number;
  /** Where counters live; undefined: in this process's memory. */
  redis?: RedisClient;
  /** Longest wait for Redis before the request goes through uncounted. */
  timeoutMs: number;
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;
interface Store {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): Store;
}
type RedisStoreConstructor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: RedisClient,
  key: string,
) => Store;

// The plugin's own Redis store (INCR + PEXPIRE in one Lua script), not exported by name.
const RedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as RedisStoreConstructor;

/** Redis keys of the counters: `flagship:rate-limit:key:<name>` or `…:ip:<address>`. */
export const RATE_LIMIT_NAMESPACE = 'flagship:rate-limit:';

/** The plugin's Redis store, bounded in time: an answer later than timeoutMs counts as an error. */
function boundedRedisStore(redis: RedisClient, timeoutMs: number) {
  return class BoundedRedisStore implements Store {
    readonly #inner: Store;
    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      this.#inner = new RedisStore(
        params.continueExceeding === true,
        params.exponentialBackoff === true,
        redis,
        RATE_LIMIT_NAMESPACE,
      );
    }
    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      if (redis.status !== 'ready') return callback(new Error(`Redis is not connected (${redis.status})`));
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        callback(new Error(`Redis did not count the request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#inner.incr(
        key,
        (error, result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          callback(error, result);
        },
        timeWindow,
        max,
      );
    }
    child(): Store {
      return this;
    }
  };
}

function clientKey(request: FastifyRequest): string {
  return request.apiKey === undefined ? `ip:${request.ip}` : `key:${request.apiKey.name}`;
}

async function rateLimit(app: FastifyInstance, settings: RateLimitPluginSettings): Promise<void> {
  const options: RateLimitPluginOptions = {
    global: true,
    max: settings.max,
    timeWindow: settings.windowMs,
    keyGenerator: clientKey,
    allowList: (request) => {
      const scope = scopeOfRequest(request);
      return scope === undefined || scope === 'public';
    },
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(`more than ${context.max} requests in ${settings.windowMs} ms: retry in ${context.after}`),
    onExceeded: (request, key) => request.log.info({ key }, 'rate limit exceeded'),
    ...(settings.redis === undefined ? {} : { store: boundedRedisStore(settings.redis, settings.timeoutMs) }),
  };
  await app.register(fastifyRateLimit as unknown as FastifyPluginAsync<RateLimitPluginOptions>, options);
}

export const rateLimitPlugin = fp(rateLimit, { name: 'flagship-rate-limit', fastify: '5.x' });
