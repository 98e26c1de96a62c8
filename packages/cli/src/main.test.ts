// The `flagship` executable as a user runs it: a subprocess, through a pipe and
// through a pseudo-terminal (`script`), against the real echo server; and Ctrl-C
// (SIGINT, which main.ts alone handles) while it follows a download of the fake API.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { HttpContracts } from '@flagship/common';
import { createEchoServer, type EchoServer } from '@flagship/echo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CANCELLED,
  ID,
  PATHS,
  accepted,
  downloadEvents,
  sendJson,
  startFakeApi,
  streamOf,
  type FakeRoute,
} from './fake-api.ts';
import { closedPort } from './test-support.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
let server: EchoServer;
let target: string;

beforeAll(async () => {
  server = createEchoServer({ port: 0 });
  target = `127.0.0.1:${(await server.listen()).port}`;
});
afterAll(() => server.close(0));

function runFlagship(args: string[], input: Buffer | string) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdin.on('error', () => {}); // the command may exit before reading all of it
  child.stdin.end(input);
  return once(child, 'close').then(([code]) => ({ code: code as number, out: Buffer.concat(out), err }));
}

describe('flagship echo, as a process', () => {
  it('pipes 2 MiB of random bytes through the server byte-exact and exits 0', async () => {
    const input = randomBytes(2 * 1024 * 1024);
    const { code, out, err } = await runFlagship(['echo', target], input);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.equals(input)).toBe(true);
  });

  it('exits 1 with a clear message when the server cannot be reached', async () => {
    const port = await closedPort();
    const { code, out, err } = await runFlagship(['echo', `127.0.0.1:${port}`], 'hello\n');
    expect(code).toBe(1);
    expect(out.length).toBe(0);
    expect(err).toContain(`cannot connect to 127.0.0.1:${port}: connection refused`);
  });

  it('exits 2 on a bad command line', async () => {
    const { code, err } = await runFlagship(['echo', 'localhost:eighty'], '');
    expect(code).toBe(2);
    expect(err).toContain('the port must be a number');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.runIf(hasScript)('is interactive on a terminal: prompt, "Received: ...", exit quits', async () => {
    // `script` gives the command a pseudo-terminal; we type into it through its stdin.
    const command = `'${process.execPath}' '${MAIN}' echo ${target}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      for (const waiter of waiters.filter((candidate) => screen.includes(candidate.text))) waiter.resolve();
    });
    const shown = (text: string) =>
      new Promise<void>((resolve) => (screen.includes(text) ? resolve() : waiters.push({ text, resolve })));
    const exited = once(child, 'close');

    await shown('> ');
    child.stdin.write('hello pty\r');
    await shown('Received: hello pty');
    child.stdin.write('exit\r');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(screen).toContain('Connected to');
    expect(screen).not.toContain('Received: exit');
  });
});

/** Spawns flagship; `printed(text)` resolves once stdout holds it. */
function startFlagship(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [MAIN, ...args], { stdio: 'pipe' });
  let out = '';
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const waiter of waiters.filter((candidate) => out.includes(candidate.text))) waiter.resolve();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const closed = once(child, 'close').then(([code]) => ({ code: code as number | null, out, err }));
  return {
    child,
    closed,
    printed: (text: string) =>
      new Promise<void>((resolve) => (out.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

/** A download the fake API accepts, whose stream stops after CN, and that it cancels. */
const HELD_DOWNLOAD: Record<string, FakeRoute> = {
  [`POST ${PATHS.downloads}`]: (_request, response) =>
    sendJson(response, 202, HttpContracts.downloadAccepted, accepted()),
  [`GET ${PATHS.events}`]: streamOf(downloadEvents().slice(0, 2), { hold: true }),
  [`DELETE ${PATHS.self}`]: (_request, response) => sendJson(response, 202, HttpContracts.downloadStatus, CANCELLED),
};

describe('Ctrl-C (SIGINT)', () => {
  it('stops following a download, leaves it running, prints the cancel command, exit 130', async () => {
    const fake = await startFakeApi(HELD_DOWNLOAD);
    try {
      const run = startFlagship(['download', '--api', fake.url]);
      await run.printed('China\n');
      run.child.kill('SIGINT');
      const { code, err } = await run.closed;
      expect(code).toBe(130);
      expect(err).toContain(`To cancel it: flagship cancel ${ID} --api ${fake.url}`);
      expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(false);
    } finally {
      await fake.close();
    }
  });

  it('cancels the download with --cancel-on-exit', async () => {
    const fake = await startFakeApi(HELD_DOWNLOAD);
    try {
      const run = startFlagship(['download', '--api', fake.url, '--cancel-on-exit']);
      await run.printed('China\n');
      run.child.kill('SIGINT');
      const { code, err } = await run.closed;
      expect(code).toBe(130);
      expect(err).toContain(`cancelled ${ID}; it is cancelled`);
      expect(fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('ends a piped echo session, exit 130', async () => {
    const run = startFlagship(['echo', target]);
    run.child.stdin.write('still typing\n');
    await run.printed('still typing\n');
    run.child.kill('SIGINT');
    expect((await run.closed).code).toBe(130);
  });
});
