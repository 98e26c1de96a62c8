import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.ts';

/** A batch function whose batches the test settles by hand. */
function manualBatches() {
  const batches: Array<{ keys: string[]; settle: (error?: Error) => void }> = [];
  let onBatch: () => void = () => {};
  return {
    batches,
    run: (keys: string[]) =>
      new Promise<string[]>((resolve, reject) => {
        batches.push({ keys, settle: (error) => (error ? reject(error) : resolve(keys.map((k) => k.toLowerCase()))) });
        onBatch();
      }),
    next: (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => (batches.length >= count ? resolve() : (onBatch = check));
        check();
      }),
  };
}

describe('createBatcher', () => {
  it('sends the calls of one tick as one batch, in order, and answers each', async () => {
    const manual = manualBatches();
    const load = createBatcher(manual.run);
    const answers = Promise.all(['CN', 'IN', 'US'].map(load));
    await manual.next(1);
    expect(manual.batches.map((b) => b.keys)).toEqual([['CN', 'IN', 'US']]);
    manual.batches[0]?.settle();
    expect(await answers).toEqual(['cn', 'in', 'us']);
  });

  it('groups the calls made while a batch is in flight into the next one', async () => {
    const manual = manualBatches();
    const load = createBatcher(manual.run);
    const first = load('CN');
    await manual.next(1);
    const later = [load('IN'), load('US')];
    await Promise.resolve();
    expect(manual.batches).toHaveLength(1); // still waiting for the first
    manual.batches[0]?.settle();
    await manual.next(2);
    expect(manual.batches[1]?.keys).toEqual(['IN', 'US']);
    manual.batches[1]?.settle();
    expect([await first, ...(await Promise.all(later))]).toEqual(['cn', 'in', 'us']);
  });

  it('rejects every call of a failed batch, and goes on with the next', async () => {
    const manual = manualBatches();
    const load = createBatcher(manual.run);
    const failed = Promise.allSettled([load('CN'), load('IN')]);
    await manual.next(1);
    manual.batches[0]?.settle(new Error('redis down'));
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const next = load('US');
    await manual.next(2);
    manual.batches[1]?.settle();
    expect(await next).toBe('us');
  });
});
