// @flagship/echo: the TCP echo service (RFC 862 plus the reference's `exit` line).
export {
  CloseReasons,
  ECHO_DEFAULTS,
  createEchoServer,
  type CloseReason,
  type EchoServer,
  type EchoServerEvents,
  type EchoServerOptions,
  type EchoStats,
  type SessionInfo,
  type SessionSummary,
} from './echo-server.ts';
export { createExitLineDetector, type ExitLineDetector } from './exit-line.ts';
