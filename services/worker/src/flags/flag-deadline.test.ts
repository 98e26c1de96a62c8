import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { FlagDeadlineExceeded, startFlagDeadline } from './flag-deadline.ts';

describe('startFlagDeadline', () => {
  it('fires at the deadline with a FlagDeadlineExceeded, and says so', async () => {
    const deadline = startFlagDeadline(new AbortController().signal, 30);
    await once(deadline.signal, 'abort');
    expect(deadline.signal.reason).toBeInstanceOf(FlagDeadlineExceeded);
    expect((deadline.signal.reason as Error).message).toBe('deadline: the flag took longer than 30 ms');
    expect(deadline.expired()).toBe(true);
    expect(deadline.remainingMs()).toBe(0);
    deadline.end();
  });

  it("passes the parent's abort on with its own reason: a shutdown is not a deadline", () => {
    const parent = new AbortController();
    const deadline = startFlagDeadline(parent.signal, 60_000);
    const shutdown = new Error('shutting down');
    parent.abort(shutdown);
    expect(deadline.signal.reason).toBe(shutdown);
    expect(deadline.expired()).toBe(false);
    deadline.end();
  });

  it('starts aborted under an aborted parent', () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    const deadline = startFlagDeadline(parent.signal, 60_000);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired()).toBe(false);
    deadline.end();
  });

  it('gives up at once on expireNow, with the reason given', () => {
    const deadline = startFlagDeadline(new AbortController().signal, 60_000);
    expect(deadline.remainingMs()).toBeGreaterThan(59_000);
    deadline.expireNow('next attempt due in 90000 ms (Retry-After),');
    expect(deadline.expired()).toBe(true);
    expect((deadline.signal.reason as Error).message).toBe(
      "deadline: next attempt due in 90000 ms (Retry-After), beyond the flag's 60000 ms deadline",
    );
  });

  it('once ended, neither the timer nor the parent aborts it', () => {
    vi.useFakeTimers();
    try {
      const parent = new AbortController();
      const deadline = startFlagDeadline(parent.signal, 10);
      deadline.end();
      parent.abort(new Error('later'));
      vi.advanceTimersByTime(1_000);
      expect(deadline.signal.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
