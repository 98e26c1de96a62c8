import { describe, expect, it } from 'vitest';
import { closeAll, once } from './shutdown.ts';

describe('closeAll', () => {
  it('runs every closer in order even when one fails, then reports the first failure', async () => {
    const ran: string[] = [];
    const failures: string[] = [];
    const boom = new Error('boom');
    await expect(
      closeAll(
        [
          { name: 'a', close: () => void ran.push('a') },
          {
            name: 'b',
            close: () => {
              ran.push('b');
              throw boom;
            },
          },
          { name: 'c', close: async () => void ran.push('c') },
        ],
        { onError: (name) => failures.push(name) },
      ),
    ).rejects.toBe(boom);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(failures).toEqual(['b']);
  });

  it('stops waiting for a closer that hangs and goes on with the next', async () => {
    const ran: string[] = [];
    await expect(
      closeAll(
        [
          { name: 'hangs', close: () => new Promise(() => {}) },
          { name: 'next', close: () => void ran.push('next') },
        ],
        { timeoutMs: 20 },
      ),
    ).rejects.toThrow(/closing hangs took longer than 20 ms/);
    expect(ran).toEqual(['next']);
  });
});

describe('once', () => {
  it('makes close idempotent', async () => {
    let calls = 0;
    const close = once(async () => ++calls);
    expect(await Promise.all([close(), close()])).toEqual([1, 1]);
    expect(await close()).toBe(1);
  });
});
