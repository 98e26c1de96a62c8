// The echo service's TCP adapter on node:net: RFC 862 (every byte back, unchanged, in
// order) plus the reference's `exit` line, with per-connection backpressure, limits,
// counters for the metrics, and a shutdown that tracks its own sockets (`server.close()`
// alone would wait for them forever).
import { EventEmitter } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import { silentLogger, type Logger } from '@flagship/runtime';
import { exitLineDetectorFactory, type ExitLineDetector } from './exit-line.ts';

/** Why a session ended; the `reason` of the close log line and of the metrics. */
export const CloseReasons = {
  /** The client shut down its sending side; everything it sent was echoed first. */
  clientEnd: 'client-end',
  /** The client sent the exit line. */
  exit: 'exit',
  /** Nothing was read or written for the idle timeout. */
  idleTimeout: 'idle-timeout',
  /** The session reached its byte limit. */
  maxBytes: 'max-bytes',
  /** The server shut down before the client finished. */
  shutdown: 'shutdown',
  /** The connection failed (reset by the peer, ...). */
  error: 'error',
} as const;
export type CloseReason = (typeof CloseReasons)[keyof typeof CloseReasons];

export const ECHO_DEFAULTS = {
  port: 8888,
  host: '127.0.0.1',
  exitCommand: 'exit',
  maxConnections: 10_000,
  idleTimeoutMs: 300_000,
  maxSessionBytes: 0,
  shutdownTimeoutMs: 5_000,
  forceCloseAfterMs: 1_000,
} as const;

export interface EchoServerOptions {
  /** TCP port; 0 picks a free one. Default 8888. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1, like the reference. */
  host?: string;
  /**
   * A line exactly equal to this (ended by `\n` or `\r\n`) is echoed, then the server
   * closes the connection. Empty string: pure RFC 862, no command. Default `exit`.
   */
  exitCommand?: string;
  /** Open sessions at most; the next connection is closed at once and counted. Default 10 000. */
  maxConnections?: number;
  /**
   * Close a session after this long with nothing received and no echo taken by the
   * client; 0 = never. Default 300 000 (5 min).
   */
  idleTimeoutMs?: number;
  /** Echo at most this many bytes per session, then close it; 0 = unlimited (default). */
  maxSessionBytes?: number;
  /**
   * After a shutdown deadline, sessions are ended (FIN) and given this long to take
   * their last bytes before they are destroyed. Default 1000 ms.
   */
  forceCloseAfterMs?: number;
  /** Default: silent. Connection lines at info, one line per chunk at debug. */
  logger?: Logger;
}

/** Live counters of one server, read by the metrics on each scrape. */
export interface EchoStats {
  /** Sessions open now. */
  open: number;
  /** Sessions accepted since start. */
  connectionsTotal: number;
  /** Connections closed at once because `maxConnections` sessions were open. */
  refused: number;
  /** Bytes read from clients (including any discarded after the session ended). */
  bytesIn: number;
  /** Bytes echoed to clients. */
  bytesOut: number;
  /** Most bytes one session has had waiting in its write buffer (backpressure bound). */
  peakBufferedBytes: number;
  closes: Record<CloseReason, number>;
}

export interface SessionInfo {
  sessionId: number;
  /** `address:port` of the client. */
  peer: string;
}

export interface SessionSummary extends SessionInfo {
  reason: CloseReason;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** The socket error code when `reason` is `error` (ECONNRESET, ...). */
  errorCode?: string;
}

export interface EchoServerEvents {
  'session-open': [SessionInfo];
  'session-close': [SessionSummary];
  /** A connection over `maxConnections` was closed. */
  refused: [{ peer: string }];
  /** A session stopped reading because its client does not read its echo fast enough. */
  backpressure: [SessionInfo & { bufferedBytes: number }];
}

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
  const port = options.port ?? ECHO_DEFAULTS.port;
  const host = options.host ?? ECHO_DEFAULTS.host;
  const exitCommand = options.exitCommand ?? ECHO_DEFAULTS.exitCommand;
  const maxConnections = options.maxConnections ?? ECHO_DEFAULTS.maxConnections;
  const idleTimeoutMs = options.idleTimeoutMs ?? ECHO_DEFAULTS.idleTimeoutMs;
  const maxSessionBytes = options.maxSessionBytes ?? ECHO_DEFAULTS.maxSessionBytes;
  const forceCloseAfterMs = options.forceCloseAfterMs ?? ECHO_DEFAULTS.forceCloseAfterMs;
  const logger = options.logger ?? silentLogger();
  validateLimits({ port, maxConnections, idleTimeoutMs, maxSessionBytes, forceCloseAfterMs });
  const newDetector = exitCommand === '' ? undefined : exitLineDetectorFactory(exitCommand);

  const events = new EventEmitter<EchoServerEvents>();
  const sessions = new Set<Session>();
  const stats: EchoStats = {
    open: 0,
    connectionsTotal: 0,
    refused: 0,
    bytesIn: 0,
    bytesOut: 0,
    peakBufferedBytes: 0,
    closes: { 'client-end': 0, exit: 0, 'idle-timeout': 0, 'max-bytes': 0, shutdown: 0, error: 0 },
  };
  let nextSessionId = 1;
  const idleSweep = createIdleSweep(idleTimeoutMs, () => {
    for (const session of sessions) {
      if (idleSweep.isIdle(session.activeTick)) destroySession(session, CloseReasons.idleTimeout);
    }
  });
  let listening = false;
  let closing: Promise<void> | undefined;
  /** Set while closing: called when the last session has closed. */
  let onDrained: (() => void) | undefined;

  // allowHalfOpen: when a client shuts down its sending side we still owe it the echo
  // of what it sent; we end our side ourselves once that is written.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  server.maxConnections = maxConnections;
  server.on('drop', (drop) => {
    stats.refused += 1;
    const peer = formatPeer(drop?.remoteAddress, drop?.remotePort);
    logger.warn({ peer, maxConnections }, 'connection refused: too many open connections');
    events.emit('refused', { peer });
  });

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

  function listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      // A large backlog: bursts of connects (benchmarks, reconnect storms) wait in the
      // kernel queue instead of being retried by the client a second later.
      server.listen({ port, host, backlog: 4096 }, () => {
        server.off('error', onError);
        listening = true;
        idleSweep.start();
        const address = server.address() as AddressInfo;
        logger.info({ address: address.address, port: address.port }, 'echo server listening');
        resolve(address);
      });
    });
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

/**
 * Idle detection without a timer per socket: node's socket.setTimeout() refreshes a
 * timer on every read and write, which costs several percent of round trips per
 * second. Instead a session notes the sweep's tick on each read or drain (an integer
 * store), and one timer per server closes sessions whose tick is too old. A session is
 * closed once idle for `idleTimeoutMs`, at most two sweeps (of ≤ 1 s each) later.
 */
function createIdleSweep(idleTimeoutMs: number, sweep: () => void) {
  const everyMs = Math.min(1_000, Math.max(5, Math.floor(idleTimeoutMs / 4)));
  const idleTicks = Math.ceil(idleTimeoutMs / everyMs);
  let timer: NodeJS.Timeout | undefined;
  const state = {
    tick: 0,
    /** True when nothing happened for the whole timeout (always false when it is 0). */
    isIdle: (activeTick: number) => state.tick - activeTick > idleTicks,
    start() {
      if (idleTimeoutMs === 0 || timer !== undefined) return;
      timer = setInterval(() => {
        state.tick += 1;
        sweep();
      }, everyMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
  return state;
}

function validateLimits(limits: Record<string, number>): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (limits.port !== undefined && limits.port > 65535)
    throw new RangeError(`port must be ≤ 65535, got ${limits.port}`);
  if (limits.maxConnections === 0) throw new RangeError('maxConnections must be at least 1');
}

function formatPeer(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The start of a chunk for debug logs, as text (invalid UTF-8 shows as U+FFFD). */
function preview(chunk: Buffer): string {
  return chunk.subarray(0, 80).toString('utf8');
}
