// The one undici dispatcher every flag download shares: a keep-alive connection pool to
// the origin with bounded sockets, timeouts at each stage, and a response size cap
// enforced while bytes arrive. main.ts creates it, passes it down and closes it last.
import { Agent } from 'undici';

export interface OriginDispatcherOptions {
  /** Most sockets open to the origin at once. */
  connections: number;
  connectTimeoutMs: number;
  /** Longest wait for a response's headers. */
  headersTimeoutMs: number;
  /** Longest silence between two chunks of a body. */
  bodyTimeoutMs: number;
  /** Bodies larger than this fail with UND_ERR_RES_EXCEEDED_MAX_SIZE (socket destroyed). */
  maxResponseBytes: number;
}

/**
 * Idle sockets stay open this long when the origin does not say otherwise: longer than
 * the gap between two downloads, so a new download starts on warm connections
 * (undici's 4 s default closes them; see docs/decisions.md).
 */
export const ORIGIN_KEEP_ALIVE_MS = 60_000;

export function createOriginDispatcher(options: OriginDispatcherOptions): Agent {
  return new Agent({
    connections: options.connections,
    connectTimeout: options.connectTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: ORIGIN_KEEP_ALIVE_MS,
    maxResponseSize: options.maxResponseBytes,
  });
}
