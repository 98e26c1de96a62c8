// Fake process streams for CLI tests: write to `stdin`, read what the command printed.
import { PassThrough } from 'node:stream';
import type { CliIO } from './cli-io.ts';

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

export function fakeIO(options: { tty?: boolean } = {}): FakeIO {
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
    out,
    err: () => errText,
    printed: (text) =>
      new Promise((resolve) => {
        if (out().toString().includes(text)) resolve();
        else watchers.push({ text, resolve });
      }),
  };
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
