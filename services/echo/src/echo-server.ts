// The echo service's TCP server: RFC 862 (every byte back, unchanged, in order) plus the
// reference's `exit` line. This module only puts the parts together and keeps the public
// API in one place; each concern lives in its own module: options.ts (defaults, limit
// checks), accept.ts (listening, the connection cap), session.ts (one socket's echo:
// backpressure, exit line, byte limit), exit-line.ts, idle-sweep.ts, shutdown.ts (a close
// that tracks its own sockets: `server.close()` alone would wait for them forever) and
// telemetry.ts (counters, events, close reasons).
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createAcceptor, listenOn } from './accept.ts';
import { exitLineDetectorFactory } from './exit-line.ts';
import { createIdleSweep } from './idle-sweep.ts';
import { ECHO_DEFAULTS, resolveOptions, type EchoServerOptions } from './options.ts';
import { createSessionHandlers, type Session } from './session.ts';
import { closeGracefully, trackSessions } from './shutdown.ts';
import { createStats, type EchoServerEvents, type EchoStats } from './telemetry.ts';

export { ECHO_DEFAULTS, type EchoServerOptions } from './options.ts';
export {
  CloseReasons,
  type CloseReason,
  type EchoServerEvents,
  type EchoStats,
  type SessionInfo,
  type SessionSummary,
} from './telemetry.ts';

export interface EchoServer {
  /** Start listening; resolves with the bound address (the real port when `port` is 0). */
  listen(): Promise<AddressInfo>;
  /**
   * Stop accepting, let open sessions finish for `deadlineMs` (default 5000), then end
   * the rest. Resolves when every socket is closed. Safe to call twice.
   */
  close(deadlineMs?: number): Promise<void>;
  readonly stats: Readonly<EchoStats>;
  /** True between a successful listen() and close(). */
  readonly listening: boolean;
  readonly events: EventEmitter<EchoServerEvents>;
}

export function createEchoServer(options: EchoServerOptions = {}): EchoServer {
  const settings = resolveOptions(options);
  const { logger } = settings;
  const events = new EventEmitter<EchoServerEvents>();
  const stats = createStats();
  const sessions = trackSessions<Session>();
  const idleSweep = createIdleSweep(settings.idleTimeoutMs);
  const handlers = createSessionHandlers({
    stats,
    events,
    logger,
    sessions,
    idleSweep,
    newDetector: exitLineDetectorFactory(settings.exitCommand),
    maxSessionBytes: settings.maxSessionBytes,
  });
  const { maxConnections } = settings;
  const server = createAcceptor({ maxConnections, stats, events, logger, onConnection: handlers.onConnection });
  let listening = false;
  let closing: Promise<void> | undefined;

  async function listen(): Promise<AddressInfo> {
    const address = await listenOn(server, settings.port, settings.host);
    listening = true;
    idleSweep.start(handlers.closeIdleSessions);
    // The benchmark and main.test.ts read the port (0 = any) from this line.
    logger.info({ address: address.address, port: address.port }, 'echo server listening');
    return address;
  }

  /** The first call's promise, also for later calls: a close is started once. */
  function close(deadlineMs: number = ECHO_DEFAULTS.shutdownTimeoutMs): Promise<void> {
    closing ??= shutdown(deadlineMs);
    return closing;
  }

  function shutdown(deadlineMs: number): Promise<void> {
    listening = false;
    idleSweep.stop();
    const { endSession, destroySession } = handlers;
    const { forceCloseAfterMs } = settings;
    return closeGracefully(
      { server, sessions, endSession, destroySession, forceCloseAfterMs, logger, stats },
      deadlineMs,
    );
  }

  return {
    listen,
    close,
    stats,
    events,
    get listening() {
      return listening;
    },
  };
}
