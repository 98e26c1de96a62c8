// The echo service's TCP adapter on node:net: RFC 862 (every byte back, unchanged, in
// order) plus the reference's `exit` line, with per-connection backpressure, limits,
// counters for the metrics, and a shutdown that tracks its own sockets (`server.close()`
// alone would wait for them forever).
import { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { createAcceptor, listenOn } from './accept.ts';
import { exitLineDetectorFactory, type ExitLineDetector } from './exit-line.ts';
import { createIdleSweep } from './idle-sweep.ts';
import { ECHO_DEFAULTS, resolveOptions, type EchoServerOptions } from './options.ts';
import {
  CloseReasons,
  createStats,
  formatPeer,
  type CloseReason,
  type EchoServerEvents,
  type EchoStats,
  type SessionInfo,
  type SessionSummary,
} from './telemetry.ts';

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

const kSession = Symbol('echo session');
type SessionSocket = Socket & { [kSession]: Session };

interface Session extends SessionInfo {
  socket: Socket;
  detector: ExitLineDetector | undefined;
  bytesIn: number;
  bytesOut: number;
  openedAt: number;
  /** The idle sweep's tick when data last came in or the client last drained its echo. */
  activeTick: number;
  /** Set by the first cause that ends the session; later data is discarded. */
  reason: CloseReason | undefined;
  errorCode: string | undefined;
}

export function createEchoServer(options: EchoServerOptions = {}): EchoServer {
  const { port, host, exitCommand, maxConnections, idleTimeoutMs, maxSessionBytes, forceCloseAfterMs, logger } =
    resolveOptions(options);
  const newDetector = exitLineDetectorFactory(exitCommand);

  const events = new EventEmitter<EchoServerEvents>();
  const sessions = new Set<Session>();
  const stats = createStats();
  let nextSessionId = 1;
  const idleSweep = createIdleSweep(idleTimeoutMs);
  let listening = false;
  let closing: Promise<void> | undefined;
  /** Set while closing: called when the last session has closed. */
  let onDrained: (() => void) | undefined;

  const server = createAcceptor({ maxConnections, stats, events, logger, onConnection });

  // One set of handlers for every socket (the session hangs on the socket), not six
  // closures per connection: this server is meant to hold thousands of idle ones.
  function onConnection(socket: Socket): void {
    const session: Session = {
      sessionId: nextSessionId++,
      peer: formatPeer(socket.remoteAddress, socket.remotePort),
      socket,
      detector: newDetector?.(),
      bytesIn: 0,
      bytesOut: 0,
      openedAt: performance.now(),
      activeTick: idleSweep.tick,
      reason: undefined,
      errorCode: undefined,
    };
    (socket as SessionSocket)[kSession] = session;
    sessions.add(session);
    stats.open = sessions.size;
    stats.connectionsTotal += 1;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    logger.info({ sessionId: session.sessionId, peer: session.peer }, 'connection opened');
    events.emit('session-open', { sessionId: session.sessionId, peer: session.peer });
  }

  function onSocketData(this: Socket, chunk: Buffer): void {
    onData((this as SessionSocket)[kSession], chunk);
  }
  /** pipe()'s flow control: a client that reads slowly pauses our reads from it. */
  function onSocketDrain(this: Socket): void {
    (this as SessionSocket)[kSession].activeTick = idleSweep.tick;
    this.resume();
  }
  function onSocketEnd(this: Socket): void {
    endSession((this as SessionSocket)[kSession], CloseReasons.clientEnd);
  }
  function onSocketError(this: Socket, error: NodeJS.ErrnoException): void {
    const session = (this as SessionSocket)[kSession];
    session.errorCode = error.code ?? error.name;
    session.reason ??= CloseReasons.error;
  }
  function onSocketClose(this: Socket): void {
    onClose((this as SessionSocket)[kSession]);
  }

  function onData(session: Session, chunk: Buffer): void {
    session.activeTick = idleSweep.tick;
    session.bytesIn += chunk.length;
    stats.bytesIn += chunk.length;
    // The session is over (exit line, limit, shutdown): keep reading so the client's
    // FIN arrives, but echo nothing more.
    if (session.reason !== undefined) return;
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ sessionId: session.sessionId, bytes: chunk.length, text: preview(chunk) }, 'received');
    }
    let echoEnd = chunk.length;
    let endReason: CloseReason | undefined;
    const exitEnd = session.detector?.scan(chunk) ?? -1;
    if (exitEnd !== -1) {
      echoEnd = exitEnd; // the exit line itself is echoed; anything after it is not
      endReason = CloseReasons.exit;
    }
    if (maxSessionBytes > 0 && session.bytesOut + echoEnd > maxSessionBytes) {
      echoEnd = maxSessionBytes - session.bytesOut;
      endReason = CloseReasons.maxBytes;
    }
    if (echoEnd > 0) write(session, echoEnd === chunk.length ? chunk : chunk.subarray(0, echoEnd));
    if (endReason !== undefined) endSession(session, endReason);
  }

  function write(session: Session, bytes: Buffer): void {
    const { socket } = session;
    session.bytesOut += bytes.length;
    stats.bytesOut += bytes.length;
    if (!socket.write(bytes)) {
      socket.pause();
      const bufferedBytes = socket.writableLength;
      if (bufferedBytes > stats.peakBufferedBytes) stats.peakBufferedBytes = bufferedBytes;
      events.emit('backpressure', { sessionId: session.sessionId, peer: session.peer, bufferedBytes });
    }
  }

  /** Flush what was echoed, then FIN; the socket closes when the client closes its side. */
  function endSession(session: Session, reason: CloseReason): void {
    session.reason ??= reason;
    session.socket.end();
  }

  function destroySession(session: Session, reason: CloseReason): void {
    session.reason ??= reason;
    session.socket.destroy();
  }

  function closeIdleSessions(): void {
    for (const session of sessions) {
      if (idleSweep.isIdle(session.activeTick)) destroySession(session, CloseReasons.idleTimeout);
    }
  }

  function onClose(session: Session): void {
    sessions.delete(session);
    stats.open = sessions.size;
    const reason = session.reason ?? (session.errorCode === undefined ? CloseReasons.clientEnd : CloseReasons.error);
    stats.closes[reason] += 1;
    const summary: SessionSummary = {
      sessionId: session.sessionId,
      peer: session.peer,
      reason,
      bytesIn: session.bytesIn,
      bytesOut: session.bytesOut,
      durationMs: Math.round(performance.now() - session.openedAt),
      ...(session.errorCode === undefined ? {} : { errorCode: session.errorCode }),
    };
    logger.info(summary, 'connection closed');
    events.emit('session-close', summary);
    if (sessions.size === 0) onDrained?.();
  }

  async function listen(): Promise<AddressInfo> {
    const address = await listenOn(server, port, host);
    listening = true;
    idleSweep.start(closeIdleSessions);
    // The benchmark and main.test.ts read the port (0 = any) from this line.
    logger.info({ address: address.address, port: address.port }, 'echo server listening');
    return address;
  }

  function close(deadlineMs: number = ECHO_DEFAULTS.shutdownTimeoutMs): Promise<void> {
    closing ??= shutdown(deadlineMs);
    return closing;
  }

  async function shutdown(deadlineMs: number): Promise<void> {
    listening = false;
    idleSweep.stop();
    // server.close() calls back once its connection count is zero (or at once with an
    // error when it never listened), which can be before the last socket's 'close'
    // event: wait for our own sessions too, so their close lines and counts are done.
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    const sessionsClosed = new Promise<void>((resolve) => {
      onDrained = resolve;
      if (sessions.size === 0) resolve();
    });
    const allClosed = Promise.all([serverClosed, sessionsClosed]);
    if (sessions.size > 0) {
      logger.info({ open: sessions.size, deadlineMs }, 'stopped accepting; waiting for open sessions');
    }
    let forceTimer: NodeJS.Timeout | undefined;
    const deadlineTimer = setTimeout(() => {
      for (const session of sessions) endSession(session, CloseReasons.shutdown);
      forceTimer = setTimeout(() => {
        for (const session of sessions) destroySession(session, CloseReasons.shutdown);
      }, forceCloseAfterMs);
    }, deadlineMs);
    try {
      await allClosed;
    } finally {
      clearTimeout(deadlineTimer);
      clearTimeout(forceTimer);
    }
    logger.info({ stats }, 'echo server closed');
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

/** The start of a chunk for debug logs, as text (invalid UTF-8 shows as U+FFFD). */
function preview(chunk: Buffer): string {
  return chunk.subarray(0, 80).toString('utf8');
}
