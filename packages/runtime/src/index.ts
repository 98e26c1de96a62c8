// @flagship/runtime: what every Flagship process needs whatever it does: errors, the
// logger, ordered shutdown under a deadline, the timeout helper, and the start-up
// helpers for configuration (ConfigError, LOG_LEVELS, loadConfigOrReport). The only
// entry point.
//
// It depends on pino alone, so a process that imports nothing else stays small: the echo
// service reads sockets fast and runs a full GC several times a second, each marking the
// whole heap (bench/echo/RESULTS.md). That is why the schema-based `loadEnv` is not here:
// it needs env-schema (ajv) and TypeBox, about 5 MB of heap. It lives in @flagship/common
// beside the TypeBox contracts, which every service that calls it (api, worker, origin)
// loads anyway; the echo reads its variables by hand.
export { ConfigError, FlagshipError } from './errors.ts';
export { LOG_LEVELS, createLogger, silentLogger, type LogLevel, type Logger, type LoggerOptions } from './logger.ts';
export { closeAll, once, type Closer, type CloseAllOptions } from './shutdown.ts';
export { loadConfigOrReport } from './startup.ts';
export { withTimeout } from './timeout.ts';
