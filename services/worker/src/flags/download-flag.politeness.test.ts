// Issue 10, point 4 (the part without Redis): Retry-After on 429/503, capped by the
// deadline, and the rate limiter asked before every request. The shared Redis bucket
// itself is tested against a real Redis in tests/origin-rate-limit.test.ts.
import { describe, expect, it } from 'vitest';
import { downloadFlag } from './download-flag.ts';
import type { OriginRateLimiter } from './origin-rate-limit.ts';
import { serveFlag, useFlagTestbed, type Handler } from './test-origin.ts';

const bed = useFlagTestbed('Denmark');
const deps = bed.deps;
const running = () => new AbortController().signal;
const GIF_PATH = '/data/flags/dk/dk.gif';

/** The first GIF request gets `status` with `retryAfter`; everything else is served. */
function busyOnce(status: number, retryAfter: string): Handler {
  const serve = serveFlag('Denmark');
  return (req, res) => {
    if (req.url === GIF_PATH && bed.origin.hits(GIF_PATH) === 1)
      res.writeHead(status, { 'retry-after': retryAfter }).end();
    else serve(req, res);
  };
}

/** Milliseconds between the first and the second GIF request, as the origin saw them. */
function gapBetweenGifRequests(): number {
  const [first, second] = bed.origin.requests.filter((seen) => seen.path === GIF_PATH);
  return (second?.at ?? Number.NaN) - (first?.at ?? Number.NaN);
}

describe('downloadFlag: Retry-After', () => {
  it('waits the seconds a 503 asks for before the next attempt (not the 1 ms backoff)', async () => {
    bed.origin.handler = busyOnce(503, '1');
    const outcome = await downloadFlag('DK', deps(), running());
    expect(outcome).toMatchObject({ status: 'OK', attempts: 2 });
    expect(gapBetweenGifRequests()).toBeGreaterThanOrEqual(990);
  });

  it('waits until the HTTP date a 429 gives', async () => {
    // Whole seconds: 2 s from now, rounded down, is 1 to 2 s away.
    bed.origin.handler = busyOnce(429, new Date(Date.now() + 2_000).toUTCString());
    const outcome = await downloadFlag('DK', deps(), running());
    expect(outcome).toMatchObject({ status: 'OK', attempts: 2 });
    expect(gapBetweenGifRequests()).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once with "deadline" when Retry-After points past the deadline', async () => {
    bed.origin.handler = busyOnce(503, '120');
    const started = performance.now();
    const outcome = await downloadFlag('DK', deps({ deadlineMs: 5_000 }), running());
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toMatch(
      /^deadline: next attempt due in 120000 ms \(Retry-After\), beyond the flag's 5000 ms deadline \(1 attempt; last failure: HTTP 503/,
    );
    expect(bed.origin.hits(GIF_PATH)).toBe(1);
  });

  it('ignores Retry-After on other statuses (the backoff applies)', async () => {
    bed.origin.handler = busyOnce(500, '120');
    const outcome = await downloadFlag('DK', deps(), running());
    expect(outcome).toMatchObject({ status: 'OK', attempts: 2 });
  });
});

describe('downloadFlag: the rate limiter', () => {
  function recordingLimiter(answer = true) {
    const asked: Array<{ host: string; maxWaitMs: number }> = [];
    const limiter: OriginRateLimiter = {
      acquire: async (host, maxWaitMs) => {
        asked.push({ host, maxWaitMs });
        return answer;
      },
    };
    return { asked, limiter };
  }

  it('is asked for a slot before every request to the bed.origin host, redirect hops included', async () => {
    const serve = serveFlag('Denmark');
    bed.origin.handler = (req, res) =>
      req.url === GIF_PATH ? res.writeHead(302, { location: '/moved/dk.gif' }).end() : serve(req, res);
    const { asked, limiter } = recordingLimiter();
    const outcome = await downloadFlag('DK', deps({ rateLimiter: limiter, deadlineMs: 5_000 }), running());
    expect(outcome.status).toBe('OK');
    expect(asked.map((a) => a.host)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(bed.origin.requests).toHaveLength(3);
    for (const { maxWaitMs } of asked) {
      expect(maxWaitMs).toBeGreaterThan(4_000); // what is left of the deadline
      expect(maxWaitMs).toBeLessThanOrEqual(5_000);
    }
  });

  it('fails with "deadline", sending nothing, when the next slot lies beyond the deadline', async () => {
    const { limiter } = recordingLimiter(false);
    const outcome = await downloadFlag('DK', deps({ rateLimiter: limiter }), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toBe(
      "deadline: next request slot to 127.0.0.1 (rate limit) lies beyond the flag's 5000 ms deadline (1 attempt)",
    );
    expect(bed.origin.requests).toEqual([]);
  });
});
