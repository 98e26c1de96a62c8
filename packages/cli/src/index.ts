// @flagship/cli: the `flagship` command, usable as a library (tests, other tools).
export { COMMANDS, runCli, usage } from './cli.ts';
export { ExitCodes, type CliIO, type Command } from './cli-io.ts';
export { UsageError } from './usage-error.ts';
export { echoCommand } from './commands/echo.command.ts';
export { runEchoClient, type EchoClientOptions } from './commands/echo-client.ts';
export { DEFAULT_ECHO_TARGET, parseEchoTarget, type EchoTarget } from './commands/echo-target.ts';
export { DEFAULT_API_URL, downloadCommand } from './commands/download.command.ts';
export { runDownloadClient, type DownloadClientOptions } from './commands/download-client.ts';
export { readSse, type ReadSseOptions, type SseEvent } from './sse-reader.ts';
export { API_KEY_VARIABLE, apiAuthHeaders } from './api-auth.ts';
