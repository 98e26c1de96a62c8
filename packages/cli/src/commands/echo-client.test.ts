// The echo client against the real echo server, through fake process streams.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { createEchoServer, type EchoServer, type EchoServerOptions } from '@flagship/echo';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeIO } from '../test-support.ts';
import { runEchoClient } from './echo-client.ts';

let servers: EchoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close(0)));
  servers = [];
});

async function startServer(options: EchoServerOptions = {}) {
  const server = createEchoServer({ port: 0, ...options });
  servers.push(server);
  const { port } = await server.listen();
  return { server, target: { host: '127.0.0.1', port } };
}

describe('pipe mode (stdin is not a terminal)', () => {
  it('sends stdin and prints the echo byte-exact, exit 0 when the server closes after our end', async () => {
    const { server, target } = await startServer();
    const io = fakeIO();
    const input = randomBytes(3 * 1024 * 1024);
    const closed = once(server.events, 'session-close');
    const done = runEchoClient(target, io);
    for (let offset = 0; offset < input.length; offset += 100_000)
      io.stdin.write(input.subarray(offset, offset + 100_000));
    io.stdin.end();
    expect(await done).toBe(0);
    expect(io.out().equals(input)).toBe(true);
    expect(io.err()).toBe('');
    const [summary] = await closed;
    expect(summary.reason).toBe('client-end');
  });

  it('passes NUL bytes, CRs and invalid UTF-8 through unchanged', async () => {
    const { target } = await startServer();
    const io = fakeIO();
    const input = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0xc3, 0x28, 0x65, 0x78, 0x69, 0x74, 0x0d]);
    const done = runEchoClient(target, io);
    io.stdin.end(input);
    expect(await done).toBe(0);
    expect(io.out().equals(input)).toBe(true);
  });

  it('reports a server that closes before the end of the input, exit 1', async () => {
    const { target } = await startServer({ maxSessionBytes: 10 });
    const io = fakeIO();
    const done = runEchoClient(target, io);
    io.stdin.write('0123456789abcdef');
    expect(await done).toBe(1);
    expect(io.out().toString()).toBe('0123456789');
    expect(io.err()).toContain('closed the connection before the end of the input');
  });
});

describe('interactive mode (stdin is a terminal)', () => {
  it('prompts, prints "Received: <line>" for each line, and quits on exit', async () => {
    const { server, target } = await startServer();
    const io = fakeIO({ tty: true });
    const closed = once(server.events, 'session-close');
    const done = runEchoClient(target, io);
    await io.printed('> ');
    io.stdin.write('hello\n');
    await io.printed('Received: hello\n');
    io.stdin.write('exit now, please\n');
    await io.printed('Received: exit now, please\n');
    io.stdin.write('héllo \u0000 wörld\n');
    await io.printed('Received: héllo \u0000 wörld\n');
    io.stdin.write('exit\n');
    expect(await done).toBe(0);
    const [summary] = await closed;
    expect(summary.reason).toBe('exit');
    const shown = io.out().toString();
    expect(shown).toContain(`Connected to ${target.host}:${target.port}`);
    expect(shown).not.toContain('Received: exit\n'); // the exit line is a command, not a reply
    expect(shown.match(/Received: /g)).toHaveLength(3);
  });

  it('quits on end of input (Ctrl-D) without sending exit', async () => {
    const { server, target } = await startServer();
    const io = fakeIO({ tty: true });
    const closed = once(server.events, 'session-close');
    const done = runEchoClient(target, io);
    io.stdin.write('one\n');
    await io.printed('Received: one\n');
    io.stdin.end();
    expect(await done).toBe(0);
    const [summary] = await closed;
    expect(summary).toMatchObject({ reason: 'client-end', bytesIn: 4 });
  });

  it('tells the user when the server closes the connection', async () => {
    const { target } = await startServer({ idleTimeoutMs: 30 });
    const io = fakeIO({ tty: true });
    expect(await runEchoClient(target, io)).toBe(0);
    expect(io.out().toString()).toContain('The server closed the connection.');
  });

  it('exits 1 and says why when the connection is reset', async () => {
    const server = net.createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const io = fakeIO({ tty: true });
    expect(await runEchoClient({ host: '127.0.0.1', port }, io)).toBe(1);
    expect(io.err()).toContain('ECONNRESET');
    server.close();
  });
});
