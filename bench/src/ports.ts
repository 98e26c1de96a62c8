// Free TCP ports on 127.0.0.1 for the processes the harness starts (nginx, API, origin,
// worker health endpoints), and waiting until an HTTP endpoint answers.
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for a free port');
  return address.port;
}

/**
 * Polls `url` until it answers 200 (a started process has no event to wait on from
 * outside). `stillAlive` lets a crashed process fail the wait at once.
 */
export async function waitForHttpOk(
  url: string,
  options: { timeoutMs?: number; stillAlive?: () => void } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    options.stillAlive?.();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(50);
  }
  throw new Error(`${url} did not answer 200 in time (${last})`);
}
