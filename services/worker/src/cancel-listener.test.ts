// The cancel listener without Redis: a fake connection whose duplicate is the
// subscriber. A message aborts the jobs of that download running here, on the worker
// that runs each, and nothing else; the mark check reads the download's key.
import { EventEmitter } from 'node:events';
import { cancelChannel, cancelledKey } from '@flagship/common';
import { silentLogger } from '@flagship/runtime';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCancelListener, type JobCanceller } from './cancel-listener.ts';
import { CANCELLED } from './handlers/job-run.ts';

const PREFIX = '{test}';

function fakeConnection(marked: Set<string>) {
  const subscriber = Object.assign(new EventEmitter(), {
    channels: [] as string[],
    quits: 0,
    async subscribe(channel: string) {
      subscriber.channels.push(channel);
      return 1;
    },
    async quit() {
      subscriber.quits++;
      return 'OK';
    },
    disconnect() {},
  });
  const connection = {
    duplicate: () => subscriber,
    exists: async (key: string) => (marked.has(key) ? 1 : 0),
  };
  return { connection: connection as unknown as Redis, subscriber };
}

function fakeWorker(): JobCanceller & { cancelled: [string, string | undefined][] } {
  const worker = {
    cancelled: [] as [string, string | undefined][],
    cancelJob(jobId: string, reason?: string) {
      worker.cancelled.push([jobId, reason]);
      return true;
    },
  };
  return worker;
}

describe('createCancelListener', () => {
  it('aborts the running jobs of the cancelled download on the worker that runs each', async () => {
    const { connection, subscriber } = fakeConnection(new Set());
    const listener = createCancelListener({ connection, prefix: PREFIX, logger: silentLogger() });
    await listener.waitUntilReady();
    expect(subscriber.channels).toEqual([cancelChannel(PREFIX)]);
    const chunks = fakeWorker();
    const downloads = fakeWorker();
    let finish!: () => void;
    const running = new Promise<void>((resolve) => (finish = resolve));
    const jobs = [
      listener.track('d1', 'd1-c0', chunks, () => running),
      listener.track('d1', 'd1-c3', chunks, () => running),
      listener.track('d2', 'd2-c0', chunks, () => running),
      listener.track('d3', 'd3', downloads, () => running),
    ];
    expect(listener.running).toBe(4);

    subscriber.emit('message', cancelChannel(PREFIX), 'd1');
    subscriber.emit('message', 'another-channel', 'd3');
    expect(chunks.cancelled).toEqual([
      ['d1-c0', CANCELLED],
      ['d1-c3', CANCELLED],
    ]);
    expect(downloads.cancelled).toEqual([]);

    finish();
    await Promise.all(jobs);
    expect(listener.running).toBe(0);
    subscriber.emit('message', cancelChannel(PREFIX), 'd2'); // no longer running here: nothing to do
    expect(chunks.cancelled).toHaveLength(2);
    await listener.close();
    await listener.close();
    expect(subscriber.quits).toBe(1);
  });

  it("gives each job the backstop: its download's mark, and a cancel of the job alone", async () => {
    const { connection } = fakeConnection(new Set([cancelledKey(PREFIX, 'd1')]));
    const listener = createCancelListener({ connection, prefix: PREFIX, logger: silentLogger() });
    const worker = fakeWorker();
    const seen = await listener.track('d1', 'd1-c0', worker, async (cancellation) => {
      const marked = await cancellation.isCancelled();
      cancellation.cancel();
      return marked;
    });
    expect(seen).toBe(true);
    expect(worker.cancelled).toEqual([['d1-c0', CANCELLED]]);
    expect(await listener.track('d2', 'd2-c0', worker, (cancellation) => cancellation.isCancelled())).toBe(false);
    await listener.close();
  });
});
