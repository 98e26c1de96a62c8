// The echo service's configuration, read once from the environment by main.ts and
// validated: a bad value stops the start with an error naming the variable.
import { loadEnv } from '@flagship/common';
import { Type } from 'typebox';
import { ECHO_DEFAULTS, type EchoServerOptions } from './echo-server.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const port = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description });

const EchoEnv = Type.Object({
  ECHO_PORT: port(ECHO_DEFAULTS.port, 'TCP port of the echo service (0: any free port)'),
  ECHO_HOST: Type.String({
    minLength: 1,
    default: ECHO_DEFAULTS.host,
    description: 'Address the echo service and its metrics listen on (0.0.0.0 in the image)',
  }),
  ECHO_EXIT_COMMAND: Type.String({
    maxLength: 64,
    pattern: '^[^\\r\\n]*$',
    default: ECHO_DEFAULTS.exitCommand,
    description: 'The line that ends a session; set it empty for a pure RFC 862 service',
  }),
  ECHO_MAX_CONNECTIONS: Type.Integer({
    minimum: 1,
    default: ECHO_DEFAULTS.maxConnections,
    description: 'Open sessions at most; the next connection is closed at once and counted',
  }),
  ECHO_IDLE_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    default: ECHO_DEFAULTS.idleTimeoutMs,
    description: 'Close a session idle this long (0: never)',
  }),
  ECHO_MAX_SESSION_BYTES: Type.Integer({
    minimum: 0,
    default: ECHO_DEFAULTS.maxSessionBytes,
    description: 'Echo at most this many bytes per session, then close it (0: unlimited)',
  }),
  ECHO_METRICS_PORT: port(9464, 'HTTP port of /metrics (Prometheus) and /healthz (0: any free port)'),
  ECHO_SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    default: ECHO_DEFAULTS.shutdownTimeoutMs,
    description: 'On SIGTERM/SIGINT, how long open sessions may go on before they are closed',
  }),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
});

export interface EchoConfig {
  server: Required<Pick<EchoServerOptions, 'port' | 'host' | 'exitCommand' | 'maxConnections'>> &
    Required<Pick<EchoServerOptions, 'idleTimeoutMs' | 'maxSessionBytes'>>;
  metricsPort: number;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<EchoConfig> {
  const raw = loadEnv(EchoEnv, env);
  // loadEnv reads an empty variable as unset (so `FOO=` means "the default"), but here
  // the issue gives `ECHO_EXIT_COMMAND=` a meaning of its own: no exit command.
  const exitCommand = env.ECHO_EXIT_COMMAND === '' ? '' : raw.ECHO_EXIT_COMMAND;
  return Object.freeze({
    server: Object.freeze({
      port: raw.ECHO_PORT,
      host: raw.ECHO_HOST,
      exitCommand,
      maxConnections: raw.ECHO_MAX_CONNECTIONS,
      idleTimeoutMs: raw.ECHO_IDLE_TIMEOUT_MS,
      maxSessionBytes: raw.ECHO_MAX_SESSION_BYTES,
    }),
    metricsPort: raw.ECHO_METRICS_PORT,
    shutdownTimeoutMs: raw.ECHO_SHUTDOWN_TIMEOUT_MS,
    logLevel: raw.LOG_LEVEL as LogLevel,
  });
}
