// The echo server's options: their defaults (shared with the service's configuration) and
// their check. Every limit is checked once, when the server is made, so a bad value fails
// at start-up with its name instead of misbehaving later, and no session checks it again.
import { silentLogger, type Logger } from '@flagship/runtime';

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

/** Every option set: the caller's value or the default. */
export type EchoServerSettings = Readonly<Required<EchoServerOptions>>;

/** Fill in the defaults and check the limits; throws RangeError naming a bad one. */
export function resolveOptions(options: EchoServerOptions): EchoServerSettings {
  const settings = {
    port: options.port ?? ECHO_DEFAULTS.port,
    host: options.host ?? ECHO_DEFAULTS.host,
    exitCommand: options.exitCommand ?? ECHO_DEFAULTS.exitCommand,
    maxConnections: options.maxConnections ?? ECHO_DEFAULTS.maxConnections,
    idleTimeoutMs: options.idleTimeoutMs ?? ECHO_DEFAULTS.idleTimeoutMs,
    maxSessionBytes: options.maxSessionBytes ?? ECHO_DEFAULTS.maxSessionBytes,
    forceCloseAfterMs: options.forceCloseAfterMs ?? ECHO_DEFAULTS.forceCloseAfterMs,
    logger: options.logger ?? silentLogger(),
  };
  const { port, maxConnections, idleTimeoutMs, maxSessionBytes, forceCloseAfterMs } = settings;
  validateLimits({ port, maxConnections, idleTimeoutMs, maxSessionBytes, forceCloseAfterMs });
  return settings;
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
