// One flag's time limit: a signal that fires when either the chunk's signal does
// (shutdown, cancel: the chunk is handed back) or the flag's deadline passes (the flag
// is an ERROR with reason `deadline`). Every request, body read, rate-limit wait and
// retry sleep of the flag takes this one signal, so a body that trickles a byte at a
// time, a long Retry-After or a slow Redis cannot hold a flag past its deadline.
//
// Built by hand rather than with AbortSignal.any([parent, AbortSignal.timeout(ms)]):
// AbortSignal.timeout's timer cannot be cleared, so every finished flag would leave a
// 30 s timer behind (12 500 of them for a sustained load of 50 × 250 flags), and the
// chunk's long-lived signal would collect one dependant per flag until GC. Here the
// timer is cleared and the listener removed as soon as the flag ends.

/** The abort reason when a flag's deadline passes (never a shutdown). */
export class FlagDeadlineExceeded extends Error {
  readonly deadlineMs: number;

  constructor(deadlineMs: number, detail = `the flag took longer than ${deadlineMs} ms`) {
    super(`deadline: ${detail}`);
    this.name = 'FlagDeadlineExceeded';
    this.deadlineMs = deadlineMs;
  }
}

export interface FlagDeadline {
  /** Aborted by the parent (with its reason) or at the deadline (with a FlagDeadlineExceeded). */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline (0 when past it). */
  remainingMs(): number;
  /**
   * Give up now as if the deadline had passed: what the flag would wait for next (a
   * Retry-After, a rate-limit slot) lies beyond it. The reason reads
   * "deadline: {why} beyond the flag's N ms deadline".
   */
  expireNow(why: string): void;
  /** True when the signal fired because of the deadline, not the parent. */
  expired(): boolean;
  /** Clears the timer and the parent listener; call when the flag is decided. */
  end(): void;
}

export function startFlagDeadline(parent: AbortSignal, deadlineMs: number): FlagDeadline {
  const controller = new AbortController();
  const endsAt = performance.now() + deadlineMs;
  const onParentAbort = () => controller.abort(parent.reason);
  let timer: NodeJS.Timeout | undefined;
  if (parent.aborted) onParentAbort();
  else {
    parent.addEventListener('abort', onParentAbort, { once: true });
    timer = setTimeout(() => controller.abort(new FlagDeadlineExceeded(deadlineMs)), deadlineMs);
  }
  const end = () => {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  };
  return {
    signal: controller.signal,
    remainingMs: () => Math.max(0, endsAt - performance.now()),
    expireNow(why) {
      end();
      controller.abort(new FlagDeadlineExceeded(deadlineMs, `${why} beyond the flag's ${deadlineMs} ms deadline`));
    },
    expired: () => controller.signal.aborted && controller.signal.reason instanceof FlagDeadlineExceeded,
    end,
  };
}
