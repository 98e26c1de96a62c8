#!/usr/bin/env node
// The `flagship` executable: run the command line with the process's streams and
// environment, and exit with its code once stdout has been flushed (stdin may still be
// open: a terminal, or a pipe whose writer has not finished, would otherwise keep the
// process alive). The one place that handles signals: the first Ctrl-C (SIGINT) aborts
// the commands' signal, so they stop and say so (exit 130); a second one exits at once.
import { runCli } from './cli.ts';

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

let code: number;
try {
  code = await runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: interrupt.signal,
    env: process.env,
  });
} catch (error) {
  process.stderr.write(`flagship: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  code = 1;
}
process.stdout.write('', () => process.exit(code));
