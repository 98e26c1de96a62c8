// Idle detection without a timer per socket: node's socket.setTimeout() refreshes a timer
// on every read and write, which costs several percent of round trips per second. Instead
// a session notes the sweep's tick on each read or drain (an integer store), and one
// timer per server closes sessions whose tick is too old. A session is closed once idle
// for `idleTimeoutMs`, at most two sweeps (of ≤ 1 s each) later.

export interface IdleSweep {
  /** Sweeps so far; a session stores it when it is active (read, drain). */
  readonly tick: number;
  /** True when nothing happened for the whole timeout (always false when it is 0). */
  isIdle(activeTick: number): boolean;
  /** Run `sweep` on every tick (it asks `isIdle` of each session); no timer when the timeout is 0. */
  start(sweep: () => void): void;
  stop(): void;
}

export function createIdleSweep(idleTimeoutMs: number): IdleSweep {
  // A quarter of the timeout, so a session is closed at most a quarter late; at least
  // 5 ms (tests use tiny timeouts) and at most 1 s (a cheap pass over the sessions).
  const everyMs = Math.min(1_000, Math.max(5, Math.floor(idleTimeoutMs / 4)));
  const idleTicks = Math.ceil(idleTimeoutMs / everyMs);
  let timer: NodeJS.Timeout | undefined;
  // A plain object with a data property: the per-chunk read of `tick` stays a field load.
  const state = {
    tick: 0,
    isIdle: (activeTick: number) => state.tick - activeTick > idleTicks,
    start(sweep: () => void) {
      if (idleTimeoutMs === 0 || timer !== undefined) return;
      timer = setInterval(() => {
        state.tick += 1;
        sweep();
      }, everyMs);
      // The sweep alone must not keep the process alive.
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
  return state;
}
