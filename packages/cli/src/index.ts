// @flagship/cli: the `flagship` command, usable as a library (tests, other tools).
export { COMMANDS, runCli, usage } from './cli.ts';
export { EXIT_CODES_HELP, ExitCodes, type CliEnv, type CliIO, type Command } from './cli-io.ts';
export { UsageError } from './usage-error.ts';
export { ApiError, FlagshipApi, type ApiErrorKind, type FlagshipApiOptions } from './api-client.ts';
export { DEFAULT_API_URL } from './command-line.ts';
export { echoCommand } from './commands/echo.command.ts';
export { runEchoClient, type EchoClientOptions } from './commands/echo-client.ts';
export { DEFAULT_ECHO_TARGET, parseEchoTarget, type EchoTarget } from './commands/echo-target.ts';
export { downloadCommand } from './commands/download.command.ts';
export { readEventStream, readSse, type ReadSseOptions, type SseEvent } from './sse-reader.ts';
