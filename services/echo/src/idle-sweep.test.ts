// The idle sweep on fake timers: when a session counts as idle, and that a timeout of 0
// means no timer at all. (echo-server.test.ts closes a real idle session end to end.)
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleSweep, type IdleSweep } from './idle-sweep.ts';

let sweep: IdleSweep | undefined;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  sweep?.stop();
  sweep = undefined;
  vi.useRealTimers();
});

/** Start a sweep that records, on each pass, whether a session last active at `activeTick()` is idle. */
function startSweep(idleTimeoutMs: number, activeTick: () => number): { passes: boolean[] } {
  const passes: boolean[] = [];
  const started = createIdleSweep(idleTimeoutMs);
  sweep = started;
  started.start(() => passes.push(started.isIdle(activeTick())));
  return { passes };
}

describe('createIdleSweep', () => {
  it('calls a session idle once the whole timeout has passed, at most two sweeps late', () => {
    const { passes } = startSweep(1_000, () => 0); // 4 sweeps per timeout, 250 ms apart
    vi.advanceTimersByTime(999);
    expect(passes).not.toContain(true);
    vi.advanceTimersByTime(1_000 + 2 * 250 - 999);
    expect(passes).toContain(true);
  });

  it('never calls a session idle that keeps noting the tick', () => {
    let lastActive = 0;
    const { passes } = startSweep(100, () => lastActive);
    for (let step = 0; step < 40; step += 1) {
      vi.advanceTimersByTime(50);
      lastActive = sweep!.tick; // a read or a drain
    }
    expect(passes.length).toBeGreaterThan(0);
    expect(passes).not.toContain(true);
  });

  it('sweeps at most once a second for long timeouts', () => {
    const { passes } = startSweep(300_000, () => 0);
    vi.advanceTimersByTime(10_000);
    expect(passes).toHaveLength(10);
  });

  it('starts no timer when the timeout is 0', () => {
    const { passes } = startSweep(0, () => 0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(passes).toHaveLength(0);
    expect(sweep!.isIdle(0)).toBe(false);
  });

  it('starts one timer however often it is started, and none runs after stop()', () => {
    const { passes } = startSweep(100, () => 0);
    sweep!.start(() => passes.push(false));
    expect(vi.getTimerCount()).toBe(1);
    sweep!.stop();
    vi.advanceTimersByTime(1_000);
    expect(passes).toHaveLength(0);
  });
});
