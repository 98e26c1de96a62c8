#!/usr/bin/env node
// The `flagship` executable: run the command line with the process's streams and exit
// with its code once stdout has been flushed (stdin may still be open: a terminal, or
// a pipe whose writer has not finished, would otherwise keep the process alive).
import { runCli } from './cli.ts';

let code: number;
try {
  code = await runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
} catch (error) {
  process.stderr.write(`flagship: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  code = 1;
}
process.stdout.write('', () => process.exit(code));
