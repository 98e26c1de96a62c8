// Closing an echo server gracefully. node's `server.close()` only stops accepting and then
// waits for every open socket, forever for an idle client: so the server tracks its own
// sessions, lets them go on until a deadline, then ends them (FIN) and, a little later,
// destroys whatever is still open.
import type { Server } from 'node:net';
import type { Logger } from '@flagship/runtime';
import { CloseReasons, type CloseReason, type EchoStats } from './telemetry.ts';

/** The sessions open now, so a shutdown can reach them and wait for the last one. */
export interface OpenSessions<S> {
  readonly open: Set<S>;
  /** Called last when a session has closed (logged, counted): wakes a shutdown waiting for the last one. */
  closed(): void;
  /** Resolves once no session is open; at once when none is. */
  allClosed(): Promise<void>;
}

export function trackSessions<S>(): OpenSessions<S> {
  const open = new Set<S>();
  /** Set while closing: called when the last session has closed. */
  let onAllClosed: (() => void) | undefined;
  return {
    open,
    closed() {
      if (open.size === 0) onAllClosed?.();
    },
    allClosed() {
      return new Promise<void>((resolve) => {
        onAllClosed = resolve;
        if (open.size === 0) resolve();
      });
    },
  };
}

export interface GracefulCloseDeps<S> {
  server: Server;
  sessions: OpenSessions<S>;
  /** Flush what was echoed, then FIN. */
  endSession(session: S, reason: CloseReason): void;
  destroySession(session: S, reason: CloseReason): void;
  /** How long ended sessions may take their last bytes before they are destroyed. */
  forceCloseAfterMs: number;
  logger: Logger;
  stats: Readonly<EchoStats>;
}

/** Stop accepting, let open sessions go on for `deadlineMs`, then end the rest. */
export async function closeGracefully<S>(deps: GracefulCloseDeps<S>, deadlineMs: number): Promise<void> {
  const { server, sessions, endSession, destroySession, forceCloseAfterMs, logger } = deps;
  // server.close() calls back once its connection count is zero (or at once with an
  // error when it never listened), which can be before the last socket's 'close'
  // event: wait for our own sessions too, so their close lines and counts are done.
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  const allClosed = Promise.all([serverClosed, sessions.allClosed()]);
  if (sessions.open.size > 0) {
    logger.info({ open: sessions.open.size, deadlineMs }, 'stopped accepting; waiting for open sessions');
  }
  let forceTimer: NodeJS.Timeout | undefined;
  const deadlineTimer = setTimeout(() => {
    for (const session of sessions.open) endSession(session, CloseReasons.shutdown);
    forceTimer = setTimeout(() => {
      for (const session of sessions.open) destroySession(session, CloseReasons.shutdown);
    }, forceCloseAfterMs);
  }, deadlineMs);
  try {
    await allClosed;
  } finally {
    clearTimeout(deadlineTimer);
    clearTimeout(forceTimer);
  }
  logger.info({ stats: deps.stats }, 'echo server closed');
}
