// End to end: the compose `echo` service (the real image, built from the root
// Dockerfile) started alone, reached through its published port as a user would,
// with the `flagship echo` command too; then stopped like `docker compose down` does.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, startComposeStack } from './support/compose-stack.ts';

const root = REPOSITORY_ROOT;
const CLI = path.join(root, 'packages/cli/src/main.ts');
const run = promisify(execFile);
let stack: StartedDockerComposeEnvironment | undefined;
let port: number;

beforeAll(async () => {
  stack = await startComposeStack({
    name: 'flagship-echo-e2e',
    environment: {
      ECHO_PORT: '0', // the published host port: Docker picks a free one
      ECHO_SHUTDOWN_TIMEOUT_MS: '1000',
    },
    services: ['echo'],
  });
  port = stack.getContainer('echo-1').getMappedPort(8888);
});

afterAll(async () => {
  await stack?.down({ removeVolumes: true, timeout: 30_000 });
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function readToEnd(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return once(socket, 'end').then(() => Buffer.concat(chunks));
}

describe('the compose echo service', () => {
  it('echoes 4 MiB of random bytes byte-exact through the published port', async () => {
    const socket = await connect();
    const sent = randomBytes(4 * 1024 * 1024);
    const received = readToEnd(socket);
    socket.end(sent);
    expect((await received).equals(sent)).toBe(true);
  });

  it('echoes the exit line, then closes the connection', async () => {
    const socket = await connect();
    const received = readToEnd(socket);
    socket.write('hello\r\nexit\r\nnot echoed\n');
    expect((await received).toString()).toBe('hello\r\nexit\r\n');
  });

  it('works with `flagship echo` in pipe mode', async () => {
    const child = spawn(process.execPath, [CLI, 'echo', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    const input = randomBytes(256 * 1024);
    child.stdin.end(input);
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    expect(Buffer.concat(out).equals(input)).toBe(true);
  });

  it('exposes its counters on /metrics inside the compose network', async () => {
    const container = stack!.getContainer('echo-1');
    const result = await container.exec([
      'node',
      '-e',
      "fetch('http://127.0.0.1:9464/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))",
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/^echo_connections_total \d+$/m);
    expect(Number(/^echo_connections_closed_total\{reason="exit"\} (\d+)$/m.exec(result.output)?.[1])).toBeGreaterThan(
      0,
    );
  });

  it('stops gracefully with a client connected: the client gets FIN, the container exits 0', async () => {
    const socket = await connect();
    const received = readToEnd(socket);
    socket.write('still here\n');
    const id = stack!.getContainer('echo-1').getId();
    await run('docker', ['stop', '--time', '15', id]);
    expect((await received).toString()).toBe('still here\n');
    const { stdout } = await run('docker', ['inspect', '--format', '{{.State.ExitCode}}', id]);
    expect(stdout.trim()).toBe('0');
  });
});
