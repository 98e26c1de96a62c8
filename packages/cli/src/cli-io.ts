// The streams a command talks through: the process's in main.ts, fake ones in tests.
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

/** One `flagship <name>` command. `run` resolves with the process exit code. */
export interface Command {
  name: string;
  /** One line for `flagship --help`. */
  summary: string;
  /** The command's own help text. */
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** Exit codes: 0 done, 1 the command failed, 2 the command line was wrong. */
export const ExitCodes = { ok: 0, failed: 1, usage: 2 } as const;
