// Issue 10, points 1 and 2: one deadline bounds a flag (trickling bodies, slow retries,
// retry delays), and only a whole GIF is saved.
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { downloadFlag } from './download-flag.ts';
import { TINY_GIF, serveFlag, testDispatcher, useFlagTestbed } from './test-origin.ts';

const bed = useFlagTestbed('United States');
const deps = bed.deps;
const running = () => new AbortController().signal;

/** GIF answers send a signature, then one more byte every 20 ms (under the body timeout), forever. */
function trickleGif(): Promise<void> {
  const metadata = serveFlag('United States');
  return new Promise((clientWentAway) => {
    bed.origin.handler = (req, res) => {
      if (!req.url?.endsWith('.gif')) return metadata(req, res);
      res.writeHead(200, { 'content-type': 'image/gif' }).write('GIF89a');
      const drip = setInterval(() => res.write(Buffer.alloc(1)), 20);
      res.on('close', () => {
        clearInterval(drip);
        clientWentAway();
      });
    };
  });
}

describe('downloadFlag: the per-flag deadline', () => {
  it('ends a body that trickles under the body timeout at the deadline: ERROR "deadline", request aborted', async () => {
    const clientWentAway = trickleGif();
    const started = performance.now();
    const outcome = await downloadFlag('US', deps({ deadlineMs: 300 }), running());
    const elapsed = performance.now() - started;
    expect(outcome).toMatchObject({ code: 'US', status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toBe('deadline: the flag took longer than 300 ms (1 attempt)');
    expect(elapsed).toBeLessThan(1_500); // the body timeout (2 s) never fired
    await clientWentAway; // the origin saw the request go away
    expect(await readdir(bed.folder).catch(() => [])).toEqual([]);
  });

  it('covers all attempts: slow failures stop at the deadline, not after FLAG_ATTEMPTS', async () => {
    bed.origin.handler = (_req, res) => void setTimeout(() => res.writeHead(503).end(), 100);
    const started = performance.now();
    const outcome = await downloadFlag('US', deps({ deadlineMs: 450, attempts: 10 }), running());
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(outcome.status).toBe('ERROR');
    expect(outcome.reason).toMatch(/^deadline: the flag took longer than 450 ms \(\d attempts; last failure: HTTP 503/);
    expect(outcome.attempts).toBeGreaterThanOrEqual(2);
    expect(outcome.attempts).toBeLessThan(10);
  });

  it('counts retry delays: a backoff that would end past the deadline is not slept', async () => {
    bed.origin.handler = (_req, res) => res.writeHead(503).end();
    const started = performance.now();
    const outcome = await downloadFlag(
      'US',
      deps({ deadlineMs: 2_000, retryBaseDelayMs: 10_000, random: () => 0 }),
      running(),
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toMatch(
      /^deadline: next attempt due in 5000 ms, beyond the flag's 2000 ms deadline \(1 attempt; last failure: HTTP 503 from http:\/\/127\.0\.0\.1:\d+\/data\/flags\/us\/us\.gif/,
    );
    expect(bed.origin.hits('/data/flags/us/us.gif')).toBe(1);
  });

  it('still throws on a shutdown before the deadline, so the chunk is handed back', async () => {
    void trickleGif();
    const shutdown = new AbortController();
    const download = downloadFlag('US', deps({ deadlineMs: 60_000 }), shutdown.signal);
    await bed.origin.asked('/data/flags/us/us.gif');
    shutdown.abort(new Error('shutting down'));
    await expect(download).rejects.toThrow('shutting down');
  });
});

describe('downloadFlag: content checks', () => {
  it.each([
    ['cut short', TINY_GIF.subarray(0, 40), 'truncated in the data sub-blocks'],
    ['with bytes after the trailer', Buffer.concat([TINY_GIF, Buffer.from('<html>')]), '6 bytes after the trailer'],
  ])('refuses a GIF %s: ERROR "not a whole GIF" with the content type, nothing written', async (_, body, problem) => {
    bed.origin.handler = (req, res) =>
      req.url?.endsWith('.gif')
        ? res.writeHead(200, { 'content-type': 'image/gif' }).end(body)
        : serveFlag('Chile')(req, res);
    const outcome = await downloadFlag('CL', deps(), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toBe(
      `not a whole GIF (image/gif, ${body.byteLength} bytes: ${problem}) from ${bed.origin.url}/cl/cl.gif`,
    );
    expect(await readdir(bed.folder).catch(() => [])).toEqual([]);
  });

  it('refuses the padded body of the issue: a GIF signature and 600 KB of zeros', async () => {
    await bed.dispatcher.destroy();
    bed.dispatcher = testDispatcher({ maxResponseBytes: 1024 * 1024 });
    const padded = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(600_000)]);
    bed.origin.handler = (req, res) =>
      req.url?.endsWith('.gif') ? res.writeHead(200).end(padded) : serveFlag('Chile')(req, res);
    const outcome = await downloadFlag('CL', deps(), running());
    expect(outcome.reason).toBe(
      `not a whole GIF (no content type, 600006 bytes: unexpected byte 0x00 at offset 13, no trailer) from ${bed.origin.url}/cl/cl.gif`,
    );
    expect(await readdir(bed.folder).catch(() => [])).toEqual([]);
  });
});
