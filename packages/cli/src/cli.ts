// The `flagship` command dispatcher: `flagship <command> [args]`, one file per command
// under commands/. A wrong command line prints a hint and exits 2; trouble with the API
// (an ApiError) prints `flagship <command>: <what>` and exits 3; an interrupt that
// aborted a request exits 130. A command's own failure is its exit code.
import { ApiError, isAbortError } from './api-client.ts';
import { EXIT_CODES_HELP, ExitCodes, type CliIO, type Command } from './cli-io.ts';
import { ENVIRONMENT_HELP } from './command-line.ts';
import { cancelCommand } from './commands/cancel.command.ts';
import { downloadCommand } from './commands/download.command.ts';
import { echoCommand } from './commands/echo.command.ts';
import { lsCommand } from './commands/ls.command.ts';
import { retryCommand } from './commands/retry.command.ts';
import { statusCommand } from './commands/status.command.ts';
import { watchCommand } from './commands/watch.command.ts';
import { UsageError } from './usage-error.ts';

/** Every command, by name. Add new ones here. */
export const COMMANDS: readonly Command[] = [
  downloadCommand,
  lsCommand,
  statusCommand,
  watchCommand,
  cancelCommand,
  retryCommand,
  echoCommand,
];

export function usage(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const list = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
  return `Usage: flagship <command> [options]

Commands:
${list}

Run "flagship <command> --help" for a command's options. Every command but echo
takes --api <url> and --json (the API's JSON document on stdout instead of text).

${EXIT_CODES_HELP}
  (echo exits 1 when the echo server cannot be reached)

${ENVIRONMENT_HELP}`;
}

export async function runCli(argv: string[], io: CliIO, commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage(commands)}\n`);
    return ExitCodes.ok;
  }
  if (name === undefined) {
    io.stderr.write(`${usage(commands)}\n`);
    return ExitCodes.usage;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`flagship: unknown command "${name}"\n${usage(commands)}\n`);
    return ExitCodes.usage;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`flagship ${command.name}: ${error.message}\n${command.usage}\n`);
      return ExitCodes.usage;
    }
    if (error instanceof ApiError) {
      io.stderr.write(`flagship ${command.name}: ${error.message}\n`);
      return ExitCodes.api;
    }
    if (isAbortError(error) && io.signal?.aborted === true) {
      io.stderr.write(`flagship ${command.name}: interrupted\n`);
      return ExitCodes.interrupted;
    }
    throw error;
  }
}
