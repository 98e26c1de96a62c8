// Fake process streams for CLI tests: write to `stdin`, read what the command printed;
// an environment and an interrupt signal of the test's choosing.
import { PassThrough } from 'node:stream';
import { runCli } from './cli.ts';
import type { CliEnv, CliIO } from './cli-io.ts';

export interface FakeIO extends CliIO {
  stdin: PassThrough & { isTTY?: boolean };
  stdout: PassThrough & { isTTY?: boolean };
  stderr: PassThrough;
  /** Everything written to stdout so far. */
  out(): Buffer;
  err(): string;
  /** Resolves once stdout holds `text`. */
  printed(text: string): Promise<void>;
}

export interface FakeIOOptions {
  tty?: boolean;
  env?: CliEnv;
  signal?: AbortSignal;
}

export function fakeIO(options: FakeIOOptions = {}): FakeIO {
  const stdin: PassThrough & { isTTY?: boolean } = new PassThrough();
  const stdout: PassThrough & { isTTY?: boolean } = new PassThrough();
  const stderr = new PassThrough();
  if (options.tty === true) stdin.isTTY = true;
  const outChunks: Buffer[] = [];
  let errText = '';
  const watchers: { text: string; resolve: () => void }[] = [];
  stdout.on('data', (chunk: Buffer) => {
    outChunks.push(chunk);
    const all = Buffer.concat(outChunks).toString();
    for (const watcher of watchers.filter((candidate) => all.includes(candidate.text))) {
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
  });
  stderr.on('data', (chunk: Buffer) => (errText += chunk.toString()));
  const out = () => Buffer.concat(outChunks);
  return {
    stdin,
    stdout,
    stderr,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    out,
    err: () => errText,
    printed: (text) =>
      new Promise((resolve) => {
        if (out().toString().includes(text)) resolve();
        else watchers.push({ text, resolve });
      }),
  };
}

/** Runs a command line and aborts its signal, as Ctrl-C does, once `when(io)` resolves. */
export async function runInterrupted(
  argv: string[],
  when: (io: FakeIO) => Promise<unknown>,
  options: Omit<FakeIOOptions, 'signal'> = {},
): Promise<{ code: number; io: FakeIO }> {
  const interrupt = new AbortController();
  const io = fakeIO({ ...options, signal: interrupt.signal });
  const code = runCli(argv, io);
  await when(io);
  interrupt.abort();
  return { code: await code, io };
}

/** A port nothing listens on: bound by the kernel, then released. */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
