// The `flagship` command dispatcher: `flagship <command> [args]`, one file per command
// under commands/. Usage errors print a hint and exit 2; a command's own failure exits 1.
import { ExitCodes, type CliIO, type Command } from './cli-io.ts';
import { downloadCommand } from './commands/download.command.ts';
import { echoCommand } from './commands/echo.command.ts';
import { UsageError } from './usage-error.ts';

/** Every command, by name. Add new ones here. */
export const COMMANDS: readonly Command[] = [downloadCommand, echoCommand];

export function usage(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const list = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
  return `Usage: flagship <command> [options]

Commands:
${list}

Run "flagship <command> --help" for a command's options.`;
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
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`flagship ${command.name}: ${error.message}\n${command.usage}\n`);
    return ExitCodes.usage;
  }
}
