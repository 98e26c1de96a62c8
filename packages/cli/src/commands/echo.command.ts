// `flagship echo [host[:port]]`: talk to the echo service (see echo-client.ts).
import { parseArgs } from 'node:util';
import { ExitCodes, type CliIO, type Command } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';
import { runEchoClient } from './echo-client.ts';
import { DEFAULT_ECHO_TARGET, parseEchoTarget } from './echo-target.ts';

const usage = `Usage: flagship echo [options] [host[:port]]

Talk to the Flagship echo service (default ${DEFAULT_ECHO_TARGET.host}:${DEFAULT_ECHO_TARGET.port}).
On a terminal: type a line, see "Received: <line>"; "exit" (or Ctrl-D) quits.
Otherwise: stdin goes to the server and the echo to stdout, byte for byte.

Options:
  --connect-timeout <ms>  give up connecting after this long (default 5000)
  -h, --help              show this help

Examples:
  flagship echo
  flagship echo localhost:8888
  head -c 1M /dev/urandom | flagship echo [::1]:8888 | wc -c`;

export const echoCommand: Command = {
  name: 'echo',
  summary: 'interactive client of the echo service (pipes stdin when not a terminal)',
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseEchoArgs(args);
    if (values.help === true) {
      io.stdout.write(`${usage}\n`);
      return ExitCodes.ok;
    }
    if (positionals.length > 1) throw new UsageError(`expected at most one host[:port], got ${positionals.length}`);
    const target = parseEchoTarget(positionals[0]);
    return runEchoClient({ ...target, connectTimeoutMs: parseTimeout(values['connect-timeout']) }, io);
  },
};

function parseEchoArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, 'connect-timeout': { type: 'string' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 5_000;
  const ms = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(ms >= 1)) throw new UsageError(`--connect-timeout must be a whole number of milliseconds ≥ 1, got "${text}"`);
  return ms;
}
