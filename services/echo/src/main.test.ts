// main.ts as a process: configuration from the environment, JSON logs, SIGTERM with a
// client still connected, exit codes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createReader, readToEnd } from './test-support.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, ECHO_PORT: '0', ECHO_METRICS_PORT: '0', ...env },
  });
  children.push(child);
  const lines: LogLine[] = [];
  const waiters: { msg: string; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.msg === line.msg)) waiter.resolve(line);
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    logged: (msg: string) =>
      new Promise<LogLine>((resolve) => {
        const seen = lines.find((line) => line.msg === msg);
        if (seen !== undefined) resolve(seen);
        else waiters.push({ msg, resolve });
      }),
  };
}

describe('echo main', () => {
  it('serves, logs each connection, and on SIGTERM ends open sessions after the deadline, exiting 0', async () => {
    const main = startMain({ ECHO_SHUTDOWN_TIMEOUT_MS: '100' });
    const { port } = await main.logged('echo server listening');
    const metricsLine = await main.logged('metrics listening');
    await main.logged('echo ready');

    const client = await connect(port as number);
    const reader = createReader(client);
    client.write('hello\n');
    expect((await reader.read(6)).toString()).toBe('hello\n');
    const health = await fetch(`http://127.0.0.1:${metricsLine.port as number}/healthz`);
    expect(health.status).toBe(200);

    main.child.kill('SIGTERM');
    await reader.ended; // the server's FIN, after the 100 ms deadline
    expect(await main.exited).toBe(0);
    const closed = main.lines.find((line) => line.msg === 'connection closed');
    expect(closed).toMatchObject({ reason: 'shutdown', bytesIn: 6, bytesOut: 6 });
    expect(main.lines.some((line) => line.msg === 'closing' && line.signal === 'SIGTERM')).toBe(true);
  });

  it('exits 0 at once on SIGINT when no session is open', async () => {
    const main = startMain({});
    await main.logged('echo ready');
    main.child.kill('SIGINT');
    expect(await main.exited).toBe(0);
  });

  it('is a pure RFC 862 service with ECHO_EXIT_COMMAND empty', async () => {
    const main = startMain({ ECHO_EXIT_COMMAND: '' });
    const { port } = await main.logged('echo server listening');
    const client = await connect(port as number);
    const received = readToEnd(client);
    client.end('exit\nmore\n');
    expect((await received).toString()).toBe('exit\nmore\n');
    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
  });

  it.each([
    ['ECHO_PORT', 'eighty'],
    ['ECHO_MAX_CONNECTIONS', '-3'],
  ])('refuses to start with %s=%s, naming it, exit code non-zero', async (name, value) => {
    const main = startMain({ [name]: value });
    expect(await main.exited).not.toBe(0);
    expect(main.stderr()).toContain(name);
  });
});
