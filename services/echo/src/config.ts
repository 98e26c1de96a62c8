// The echo service's configuration, read once from the environment by main.ts and
// validated: a bad value stops the start with an error naming the variable.
//
// Parsed by hand, not with loadEnv (env-schema, ajv and TypeBox): those add about 5 MB
// of heap for the life of the process, and the echo runs a full GC several times a
// second while it streams (each socket read allocates a buffer outside the heap), each
// marking the whole heap. Nine variables do not need a schema validator.
import { ConfigError, LOG_LEVELS, type LogLevel } from '@flagship/runtime';
import { ECHO_DEFAULTS, type EchoServerOptions } from './echo-server.ts';

const ECHO_METRICS_PORT_DEFAULT = 9464;
const EXIT_COMMAND_MAX_LENGTH = 64;

export interface EchoConfig {
  server: Required<Pick<EchoServerOptions, 'port' | 'host' | 'exitCommand' | 'maxConnections'>> &
    Required<Pick<EchoServerOptions, 'idleTimeoutMs' | 'maxSessionBytes'>>;
  metricsPort: number;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
}

type Env = Record<string, string | undefined>;

/**
 * Every variable (the README's configuration table documents them). An empty variable
 * reads as unset (`FOO=` in compose means "the default"), except ECHO_EXIT_COMMAND,
 * where set-but-empty means "no exit command". Every bad variable is named in one error.
 */
export function loadConfig(env: Env): Readonly<EchoConfig> {
  const errors: string[] = [];
  const integer = (name: string, fallback: number, minimum: number, maximum?: number) =>
    readInteger(env, errors, { name, fallback, minimum, maximum });
  const server = Object.freeze({
    port: integer('ECHO_PORT', ECHO_DEFAULTS.port, 0, 65535),
    host: env.ECHO_HOST || ECHO_DEFAULTS.host,
    exitCommand: readExitCommand(env, errors),
    maxConnections: integer('ECHO_MAX_CONNECTIONS', ECHO_DEFAULTS.maxConnections, 1),
    idleTimeoutMs: integer('ECHO_IDLE_TIMEOUT_MS', ECHO_DEFAULTS.idleTimeoutMs, 0),
    maxSessionBytes: integer('ECHO_MAX_SESSION_BYTES', ECHO_DEFAULTS.maxSessionBytes, 0),
  });
  const config = Object.freeze({
    server,
    metricsPort: integer('ECHO_METRICS_PORT', ECHO_METRICS_PORT_DEFAULT, 0, 65535),
    shutdownTimeoutMs: integer('ECHO_SHUTDOWN_TIMEOUT_MS', ECHO_DEFAULTS.shutdownTimeoutMs, 0),
    logLevel: readLogLevel(env, errors),
  });
  if (errors.length > 0) throw new ConfigError(`invalid configuration: ${errors.join('; ')}`);
  return config;
}

/** Decimal digits only (no `1e3`, `0x10`, `1.5`, `-1`, spaces), within the bounds. */
function readInteger(
  env: Env,
  errors: string[],
  spec: { name: string; fallback: number; minimum: number; maximum: number | undefined },
): number {
  const text = env[spec.name];
  if (text === undefined || text === '') return spec.fallback;
  const maximum = spec.maximum ?? Number.MAX_SAFE_INTEGER;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= spec.minimum && value <= maximum) return value;
  const range = spec.maximum === undefined ? `≥ ${spec.minimum}` : `from ${spec.minimum} to ${spec.maximum}`;
  errors.push(`${spec.name} must be an integer ${range}, got ${JSON.stringify(text)}`);
  return spec.fallback;
}

function readExitCommand(env: Env, errors: string[]): string {
  const text = env.ECHO_EXIT_COMMAND;
  if (text === undefined) return ECHO_DEFAULTS.exitCommand;
  if (text.length > EXIT_COMMAND_MAX_LENGTH || /[\r\n]/.test(text)) {
    errors.push(`ECHO_EXIT_COMMAND must be one line of at most ${EXIT_COMMAND_MAX_LENGTH} characters`);
    return ECHO_DEFAULTS.exitCommand;
  }
  return text;
}

function readLogLevel(env: Env, errors: string[]): LogLevel {
  const text = env.LOG_LEVEL;
  if (text === undefined || text === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(text)) return text as LogLevel;
  errors.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
  return 'info';
}
