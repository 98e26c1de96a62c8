import { describe, expect, it } from 'vitest';
import { withTimeout } from './timeout.ts';

const never = new Promise<never>(() => {});

describe('withTimeout', () => {
  it("returns the promise's value when it settles in time", async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000, () => 0)).resolves.toBe(7);
  });

  it("rejects with the promise's own error when it fails in time", async () => {
    const boom = new Error('boom');
    await expect(withTimeout(Promise.reject(boom), 1_000, () => 0)).rejects.toBe(boom);
  });

  it('gives the fallback when the deadline passes first', async () => {
    await expect(withTimeout(never, 5, () => 'late')).resolves.toBe('late');
  });

  it('rejects with the error onTimeout throws when the deadline passes first', async () => {
    const late = new RangeError('too slow');
    await expect(
      withTimeout(never, 5, () => {
        throw late;
      }),
    ).rejects.toBe(late);
  });

  it('does not call onTimeout once the promise has settled', async () => {
    let calls = 0;
    await withTimeout(Promise.resolve(), 5, () => calls++);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(0);
  });
});
