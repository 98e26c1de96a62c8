// The one way services build their root pino logger: JSON lines on stdout, readable
// colours only when a person is watching a terminal. Components take `logger.child()`.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** pino's levels, in the order of severity: what every service's LOG_LEVEL accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Service name, bound on every line as `service`. */
  name: string;
  /** pino level; default `info`. */
  level?: LevelWithSilent;
  /** Pretty-print (pino-pretty). Default: only when stdout is a TTY. */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    base: { service: options.name },
    level: options.level ?? 'info',
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}

/** A logger that writes nothing, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
