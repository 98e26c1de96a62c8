// The one undici dispatcher every flag download shares: a keep-alive connection pool to
// the origin with bounded sockets, timeouts at each stage, and a response size cap
// enforced while bytes arrive. main.ts creates it, passes it down and closes it last.
import { Agent } from 'undici';

export interface OriginDispatcherOptions {
  /** Most sockets open to the origin at once. */
  ORIGIN_CONNECTIONS: number;
  ORIGIN_CONNECT_TIMEOUT_MS: number;
  ORIGIN_HEADERS_TIMEOUT_MS: number;
  /** Longest silence between two chunks of a body. */
  ORIGIN_BODY_TIMEOUT_MS: number;
  /** Bodies larger than this fail with UND_ERR_RES_EXCEEDED_MAX_SIZE (socket destroyed). */
  MAX_RESPONSE_BYTES: number;
}

/**
 * Idle sockets stay open this long when the origin does not say otherwise: longer than
 * the gap between two downloads, so a new download starts on warm connections
 * (undici's 4 s default closes them; see docs/decisions.md).
 */
export const ORIGIN_KEEP_ALIVE_MS = 60_000;

export function createOriginDispatcher(options: OriginDispatcherOptions): Agent {
  return new Agent({
    connections: options.ORIGIN_CONNECTIONS,
    connectTimeout: options.ORIGIN_CONNECT_TIMEOUT_MS,
    headersTimeout: options.ORIGIN_HEADERS_TIMEOUT_MS,
    bodyTimeout: options.ORIGIN_BODY_TIMEOUT_MS,
    keepAliveTimeout: ORIGIN_KEEP_ALIVE_MS,
    maxResponseSize: options.MAX_RESPONSE_BYTES,
  });
}
