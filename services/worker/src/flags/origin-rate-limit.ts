// ORIGIN_RATE_LIMIT: requests per second to one origin host (by host name, whatever the
// port: http and https of one machine share it), shared by every worker process
// through Redis, so three workers never hit an origin harder than one limit.
//
// Why not BullMQ's limiter: it limits jobs of one queue, and a job here is a chunk of
// up to 25 flags, 50 requests and more (retries, redirects), started at once; a
// download of a few flags is a job of another queue altogether. The unit to limit is
// the HTTP request, to a host, across queues and processes.
//
// The bucket is one Redis key per host (`{prefix}:ratelimit:{host}`, under the queues'
// `{flagship}` hash tag, so it lives in their Redis Cluster slot) and a Lua script run
// before every origin request, redirects and retries included. It is a token bucket of
// one token in its GCRA form: the key holds the earliest time the next request may go.
// A call either takes the token (the key moves on by 1/rate from now) or is told how
// long to wait; Redis's own clock (TIME) decides, so workers on other machines need no
// synchronised clocks. One token, no burst: requests are spaced evenly, so no 1-second
// window, wherever it starts, sees more than the limit plus one (a bucket of N tokens
// would allow 2N in a window that straddles a refill).
//
// A slot is taken only when it is due, never booked ahead: booked slots turn a stalled
// event loop into a burst (every timer that came due during the stall fires at once,
// and the origin sees those requests together), while a token taken "now" gives no
// credit for the stall. Measured in tests/origin-rate-limit.test.ts (three workers in
// one busy process, 250 requests at 50/s, the origin timing arrivals in its own
// thread; load average 9-15 on 2 cores): booked slots let 52, 57 and 60 requests into
// one second, 250 requests in 5.1 s; taken-when-due slots 38-44, in 7.2-8.1 s. The
// price is rate lost on a busy machine, never a burst. To keep polling cheap, a
// process queues its own requests for a host (first come, first served) and only the
// head of that queue asks Redis; after a token it waits 1/rate before asking again, so
// an uncontended limiter costs one call per request and each further process about
// one more.
//
// A flag whose wait runs past its deadline stops with `deadline` (its signal fires, or
// Redis names a wait longer than the flag has left). Caveat: the limit also bounds how
// many flags finish within a deadline: with a rate of R/s, about R × FLAG_DEADLINE_MS /
// 2000 flags can be in flight across all workers before the last ones miss it (lower
// FLAG_CONCURRENCY to match). With the option off, no limiter is built and no Redis
// call is made.
import { createHash } from 'node:crypto';
import type { RedisClient } from '@flagship/common';
import { sleep, untilAborted } from './abortable.ts';

export interface OriginRateLimiter {
  /**
   * Waits for this host's next request slot and resolves true when the request may go;
   * false when Redis names a wait longer than `maxWaitMs` from the call. Rejects with
   * the signal's reason when it fires.
   */
  acquire(host: string, maxWaitMs: number, signal: AbortSignal): Promise<boolean>;
}

export interface RedisRateLimiterOptions {
  /** Requests per second per origin host, > 0. */
  requestsPerSecond: number;
  /** Key prefix, the queues' prefix (default `{flagship}`): keys are `{prefix}:ratelimit:{host}`. */
  keyPrefix: string;
}

// KEYS[1] the host's bucket; ARGV[1] the interval between requests (µs). Returns 0 when
// the token was taken, else the µs until it is due. Times are µs since the epoch, about
// 2^51: exact in Lua's doubles (and written with %.0f, never in exponent form).
export const RATE_LIMIT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due > now then return math.ceil(due - now) end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', now + interval), 'PX', math.ceil(interval / 1000) + 1000)
return 0
`;
const SCRIPT_SHA = createHash('sha1').update(RATE_LIMIT_SCRIPT).digest('hex');

export function rateLimitKey(keyPrefix: string, host: string): string {
  return `${keyPrefix}:ratelimit:${host}`;
}

export function createRedisRateLimiter(
  redis: Pick<RedisClient, 'evalsha' | 'eval'>,
  options: RedisRateLimiterOptions,
): OriginRateLimiter {
  if (!(options.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be > 0');
  const intervalMicros = Math.ceil(1_000_000 / options.requestsPerSecond);
  const intervalMs = intervalMicros / 1000;
  /** Per host (a handful: the origin and the allowed hosts): the tail of this process's
   *  queue, and when its last token was taken. */
  const hosts = new Map<string, { tail: Promise<void>; lastTakenAt: number }>();

  async function takeOrWait(key: string): Promise<number> {
    const args = [1, key, intervalMicros] as const;
    try {
      return Number(await redis.evalsha(SCRIPT_SHA, ...args));
    } catch (error) {
      // First call on this Redis (or after a restart): load the script by sending it.
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return Number(await redis.eval(RATE_LIMIT_SCRIPT, ...args));
    }
  }

  async function headOfQueue(host: string, giveUpAt: number, signal: AbortSignal): Promise<boolean> {
    const state = hosts.get(host) as { lastTakenAt: number };
    const key = rateLimitKey(options.keyPrefix, host);
    // No token can be due before 1/rate after this process's last one: do not ask.
    const early = Math.ceil(state.lastTakenAt + intervalMs - performance.now());
    if (performance.now() + early > giveUpAt) return false;
    if (early > 0) await sleep(early, signal);
    for (;;) {
      const waitMicros = await untilAborted(takeOrWait(key), signal);
      if (waitMicros === 0) {
        state.lastTakenAt = performance.now();
        return true;
      }
      const waitMs = Math.ceil(waitMicros / 1000); // rounded up: never ask before it is due
      if (performance.now() + waitMs > giveUpAt) return false;
      await sleep(waitMs, signal);
    }
  }

  return {
    async acquire(host, maxWaitMs, signal) {
      const giveUpAt = performance.now() + maxWaitMs;
      const state = hosts.get(host) ?? { tail: Promise.resolve(), lastTakenAt: Number.NEGATIVE_INFINITY };
      const ahead = state.tail;
      let done: () => void = () => {};
      const mine = new Promise<void>((resolve) => (done = resolve));
      // Whoever queues next waits for those ahead and for this call, however it ends.
      state.tail = ahead.then(() => mine);
      hosts.set(host, state);
      try {
        await untilAborted(ahead, signal);
        return await headOfQueue(host, giveUpAt, signal);
      } finally {
        done();
      }
    },
  };
}
