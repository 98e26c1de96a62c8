// What one echo server reports: plain counters that the metrics read at scrape time (so
// no metrics code runs per chunk), the close reasons they count, and the events tests and
// tools listen to. Its own module so the metrics and the server's parts share these
// shapes without depending on each other.

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

export function createStats(): EchoStats {
  return {
    open: 0,
    connectionsTotal: 0,
    refused: 0,
    bytesIn: 0,
    bytesOut: 0,
    peakBufferedBytes: 0,
    closes: { 'client-end': 0, exit: 0, 'idle-timeout': 0, 'max-bytes': 0, shutdown: 0, error: 0 },
  };
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

/** The `peer` of logs and events: `address:port`, an IPv6 address in brackets. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
