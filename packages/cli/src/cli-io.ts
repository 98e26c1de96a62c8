// What a command talks through: the process's streams, environment and Ctrl-C in
// main.ts (the one place that listens for signals), fake ones in tests.
import type { Readable, Writable } from 'node:stream';

export type CliEnv = Readonly<Record<string, string | undefined>>;

export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** Aborted when the user interrupts (SIGINT, Ctrl-C); main.ts aborts it, commands react. */
  signal?: AbortSignal;
  /** The environment the commands read (FLAGSHIP_API, FLAGSHIP_API_KEY); none when absent. */
  env?: CliEnv;
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

/**
 * Exit codes: 0 done; 1 the command's work failed (a download that failed, was
 * cancelled or has flags that failed; an echo server that cannot be reached); 2 the
 * command line was wrong; 3 the API cannot be reached or answered an error; 130
 * interrupted (Ctrl-C), as a shell reports a process that SIGINT ended.
 */
export const ExitCodes = { ok: 0, failed: 1, usage: 2, api: 3, interrupted: 130 } as const;

/** The exit codes as `--help` and the commands' usage texts print them. */
export const EXIT_CODES_HELP = `Exit codes:
  0    done
  1    the download failed, was cancelled, or some flags failed
  2    wrong command line
  3    the API cannot be reached or answered an error (its problem's title and detail are printed)
  130  interrupted (Ctrl-C)`;
