// @flagship/common/runtime: the light entry point, for processes whose heap must stay
// small (the echo service): errors, the logger and ordered shutdown, nothing else.
// It loads pino only, not TypeBox, ajv, ioredis or the country tables: the main entry
// adds about 12 MB of heap, and a process that reads sockets fast runs full GCs several
// times a second, each marking all of it (bench/echo/RESULTS.md).
export { ConfigError, FlagshipError } from './errors.ts';
export { LOG_LEVELS, createLogger, silentLogger, type LogLevel, type Logger, type LoggerOptions } from './logger.ts';
export { closeAll, once, type Closer, type CloseAllOptions } from './shutdown.ts';
export { loadConfigOrReport } from './startup.ts';
