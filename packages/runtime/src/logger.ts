// The one way services build their root pino logger: JSON lines on stdout, readable
// colours only when a person is watching a terminal. Components take `logger.child()`.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

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
  /** Fields added to every line when it is written (the trace id of the active span: Tracing.logFields). */
  mixin?: () => Record<string, unknown>;
  /** Where lines go instead of stdout (tests read them). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.destination === undefined && (options.pretty ?? process.stdout.isTTY === true);
  const settings = {
    base: { service: options.name },
    level: options.level ?? 'info',
    ...(options.mixin ? { mixin: options.mixin } : {}),
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

/** A logger that writes nothing, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
