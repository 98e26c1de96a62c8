// One echo session per accepted socket: every byte back in order, with pipe()'s
// backpressure, the exit line, the byte limit and the idle sweep's activity mark, and
// one close line and count per session. The handlers are made once per server and
// shared by every socket (the session hangs on the socket), not six closures per
// connection: this server is meant to hold thousands of idle ones (10 000 at 114 MiB RSS,
// bench/echo/RESULTS.md).
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '@flagship/runtime';
import type { ExitLineDetector } from './exit-line.ts';
import type { IdleSweep } from './idle-sweep.ts';
import type { OpenSessions } from './shutdown.ts';
import {
  CloseReasons,
  formatPeer,
  type CloseReason,
  type EchoServerEvents,
  type EchoStats,
  type SessionInfo,
  type SessionSummary,
} from './telemetry.ts';

const kSession = Symbol('echo session');
type SessionSocket = Socket & { [kSession]: Session };

export interface Session extends SessionInfo {
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

export interface SessionDeps {
  stats: EchoStats;
  events: EventEmitter<EchoServerEvents>;
  logger: Logger;
  sessions: OpenSessions<Session>;
  idleSweep: Pick<IdleSweep, 'tick' | 'isIdle'>;
  /** One exit line detector per session; undefined when there is no exit command. */
  newDetector: (() => ExitLineDetector) | undefined;
  /** 0 = unlimited. */
  maxSessionBytes: number;
}

export interface SessionHandlers {
  /** The server's connection listener: starts a session on the socket. */
  onConnection(socket: Socket): void;
  /** Flush what was echoed, then FIN; the socket closes when the client closes its side. */
  endSession(session: Session, reason: CloseReason): void;
  destroySession(session: Session, reason: CloseReason): void;
  /** The idle sweep's pass: destroy the sessions idle for the whole timeout. */
  closeIdleSessions(): void;
}

export function createSessionHandlers(deps: SessionDeps): SessionHandlers {
  const { stats, events, logger, sessions, idleSweep, newDetector, maxSessionBytes } = deps;
  let nextSessionId = 1;

  function onConnection(socket: Socket): void {
    const session = newSession(socket, nextSessionId++, newDetector?.(), idleSweep.tick);
    (socket as SessionSocket)[kSession] = session;
    sessions.open.add(session);
    stats.open = sessions.open.size;
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

  function endSession(session: Session, reason: CloseReason): void {
    session.reason ??= reason;
    session.socket.end();
  }

  function destroySession(session: Session, reason: CloseReason): void {
    session.reason ??= reason;
    session.socket.destroy();
  }

  function closeIdleSessions(): void {
    for (const session of sessions.open) {
      if (idleSweep.isIdle(session.activeTick)) destroySession(session, CloseReasons.idleTimeout);
    }
  }

  function onClose(session: Session): void {
    sessions.open.delete(session);
    stats.open = sessions.open.size;
    const summary = summarize(session);
    stats.closes[summary.reason] += 1;
    logger.info(summary, 'connection closed');
    events.emit('session-close', summary);
    sessions.closed();
  }

  return { onConnection, endSession, destroySession, closeIdleSessions };
}

function newSession(
  socket: Socket,
  sessionId: number,
  detector: ExitLineDetector | undefined,
  activeTick: number,
): Session {
  return {
    sessionId,
    peer: formatPeer(socket.remoteAddress, socket.remotePort),
    socket,
    detector,
    bytesIn: 0,
    bytesOut: 0,
    openedAt: performance.now(),
    activeTick,
    reason: undefined,
    errorCode: undefined,
  };
}

/** The close log line and event of a session that has closed. */
function summarize(session: Session): SessionSummary {
  // No cause was recorded when the socket closed on its own: a failure or a plain end.
  const reason = session.reason ?? (session.errorCode === undefined ? CloseReasons.clientEnd : CloseReasons.error);
  return {
    sessionId: session.sessionId,
    peer: session.peer,
    reason,
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
    durationMs: Math.round(performance.now() - session.openedAt),
    ...(session.errorCode === undefined ? {} : { errorCode: session.errorCode }),
  };
}

/** The start of a chunk for debug logs, as text (invalid UTF-8 shows as U+FFFD). */
function preview(chunk: Buffer): string {
  return chunk.subarray(0, 80).toString('utf8');
}
