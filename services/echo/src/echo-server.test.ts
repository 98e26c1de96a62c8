// The echo server over real sockets on 127.0.0.1, port 0.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoServer, type EchoServer, type EchoServerOptions } from './echo-server.ts';
import { connect, createReader, readToEnd, writeInRandomPieces } from './test-support.ts';

const MiB = 1024 * 1024;
let servers: EchoServer[] = [];

async function start(options: EchoServerOptions = {}): Promise<{ server: EchoServer; port: number }> {
  const server = createEchoServer({ port: 0, ...options });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

afterEach(async () => {
  await Promise.all(servers.map((server) => server.close(0)));
  servers = [];
});

describe('echo', () => {
  it('echoes 10 MiB of random bytes byte-exact, whatever the chunking', async () => {
    const { server, port } = await start();
    const client = await connect(port);
    const sent = randomBytes(10 * MiB);
    const received = readToEnd(client);
    const closed = once(server.events, 'session-close');
    writeInRandomPieces(client, sent, 100_000);
    client.end();
    const echoed = await received;
    expect(echoed.length).toBe(sent.length);
    expect(echoed.equals(sent)).toBe(true);
    await closed;
    expect(server.stats).toMatchObject({ bytesIn: sent.length, bytesOut: sent.length, connectionsTotal: 1, open: 0 });
  });

  it('echoes NUL bytes, invalid UTF-8 and lone CRs unchanged', async () => {
    const { port } = await start();
    const client = await connect(port);
    const poison = Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x0d, 0x00, 0x0a, 0x0d, 0x0d, 0x0a, 0xed, 0xa0, 0x80]);
    const received = readToEnd(client);
    for (const byte of poison) client.write(Buffer.from([byte]));
    client.end();
    expect((await received).equals(poison)).toBe(true);
  });

  it('serves 200 concurrent clients, each getting back exactly its own stream', async () => {
    const { server, port } = await start();
    let opened = 0;
    const allOpen = new Promise<void>((resolve) =>
      server.events.on('session-open', () => {
        if (++opened === 200) resolve();
      }),
    );
    const clients = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const socket = await connect(port);
        return { socket, sent: randomBytes(64 * 1024), received: readToEnd(socket) };
      }),
    );
    await allOpen;
    expect(server.stats.open).toBe(200);
    for (const { socket, sent } of clients) {
      writeInRandomPieces(socket, sent, 8_192);
      socket.end();
    }
    const results = await Promise.all(clients.map(async ({ sent, received }) => (await received).equals(sent)));
    expect(results.every(Boolean)).toBe(true);
    expect(server.stats.connectionsTotal).toBe(200);
  });

  it('does not let one flooding client starve the others', async () => {
    const { server, port } = await start();
    const flooder = await connect(port);
    const block = randomBytes(64 * 1024);
    let flooding = true;
    flooder.on('data', () => {}); // reads (and drops) its echo as fast as it can
    const flood = (): void => {
      while (flooding && flooder.write(block));
    };
    flooder.on('drain', flood);
    flood();

    const roundTrips = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = await connect(port);
        const reader = createReader(socket);
        let matched = 0;
        for (let i = 0; i < 50; i += 1) {
          const payload = randomBytes(1024);
          socket.write(payload);
          if ((await reader.read(payload.length)).equals(payload)) matched += 1;
        }
        socket.end();
        return matched;
      }),
    );
    flooding = false;
    expect(roundTrips).toEqual(Array(20).fill(50));
    expect(server.stats.bytesIn).toBeGreaterThan(4 * MiB); // the flood really flowed meanwhile
    flooder.destroy();
  });
});

describe('the exit line', () => {
  it.each([
    ['\\n', 'exit\n'],
    ['\\r\\n', 'exit\r\n'],
  ])('with %s echoes what came before and the line itself, then closes', async (_, line) => {
    const { server, port } = await start();
    const client = await connect(port);
    const received = readToEnd(client);
    const closed = once(server.events, 'session-close');
    client.write(`hello\nex`);
    client.write(`${line.slice(2)}after the exit line\n`);
    expect((await received).toString()).toBe(`hello\n${line}`);
    const [summary] = await closed;
    expect(summary).toMatchObject({ reason: 'exit', bytesOut: 6 + line.length });
    expect(server.stats.closes.exit).toBe(1);
  });

  it.each(['exit now\n', 'please exit\n', 'exit \n', 'EXIT\n', 'exit'])(
    'echoes %j like any data and keeps the session open',
    async (text) => {
      const { server, port } = await start();
      const client = await connect(port);
      const reader = createReader(client);
      client.write(text);
      expect((await reader.read(text.length)).toString()).toBe(text);
      client.write('still here\n');
      expect((await reader.read(11)).toString()).toBe('still here\n');
      expect(server.stats.open).toBe(1);
      client.end();
      await reader.ended;
    },
  );

  it('is plain data when the command is switched off (pure RFC 862)', async () => {
    const { server, port } = await start({ exitCommand: '' });
    const client = await connect(port);
    const reader = createReader(client);
    client.write('exit\n');
    expect((await reader.read(5)).toString()).toBe('exit\n');
    expect(server.stats.open).toBe(1);
    client.end();
    await reader.ended;
  });

  it('can be another word', async () => {
    const { port } = await start({ exitCommand: 'quit' });
    const client = await connect(port);
    const received = readToEnd(client);
    client.write('exit\nquit\r\n');
    expect((await received).toString()).toBe('exit\nquit\r\n');
  });
});

describe('half-close', () => {
  it('finishes echoing after the client shuts down its sending side, then closes', async () => {
    const { server, port } = await start();
    const client = await connect(port, { allowHalfOpen: true });
    const sent = randomBytes(2 * MiB);
    const received = readToEnd(client);
    const closed = once(server.events, 'session-close');
    client.end(sent); // FIN right behind the data: the echo is still owed
    expect((await received).equals(sent)).toBe(true);
    const [summary] = await closed;
    expect(summary).toMatchObject({ reason: 'client-end', bytesIn: sent.length, bytesOut: sent.length });
  });
});

describe('limits', () => {
  it('closes a session that stays idle for the idle timeout', async () => {
    const { server, port } = await start({ idleTimeoutMs: 50 });
    const client = await connect(port);
    const reader = createReader(client);
    const sessionClosed = once(server.events, 'session-close');
    const clientClosed = once(client, 'close');
    client.write('ping\n');
    expect((await reader.read(5)).toString()).toBe('ping\n');
    const [summary] = await sessionClosed;
    expect(summary).toMatchObject({ reason: 'idle-timeout', bytesIn: 5, bytesOut: 5 });
    await clientClosed;
    expect(server.stats.closes['idle-timeout']).toBe(1);
  });

  it('refuses the connection over the limit, and accepts again once one leaves', async () => {
    const { server, port } = await start({ maxConnections: 2 });
    const first = await connect(port);
    const second = await connect(port);
    const refusedEvent = once(server.events, 'refused');
    const third = await connect(port); // the kernel accepts; the server closes it at once
    const thirdGot = readToEnd(third);
    third.write('hello?\n');
    await refusedEvent;
    expect((await thirdGot).length).toBe(0);
    expect(server.stats).toMatchObject({ refused: 1, open: 2, connectionsTotal: 2 });

    const left = once(server.events, 'session-close');
    first.end();
    await left;
    const fourth = await connect(port);
    const reader = createReader(fourth);
    fourth.write('back\n');
    expect((await reader.read(5)).toString()).toBe('back\n');
    expect(server.stats).toMatchObject({ refused: 1, open: 2, connectionsTotal: 3 });
    second.destroy();
    fourth.destroy();
  });

  it('echoes at most maxSessionBytes, then closes the session', async () => {
    const { server, port } = await start({ maxSessionBytes: 1000 });
    const client = await connect(port);
    const sent = randomBytes(5000);
    const received = readToEnd(client);
    const closed = once(server.events, 'session-close');
    writeInRandomPieces(client, sent, 300);
    const echoed = await received;
    expect(echoed.equals(sent.subarray(0, 1000))).toBe(true);
    const [summary] = await closed;
    expect(summary).toMatchObject({ reason: 'max-bytes', bytesOut: 1000 });
  });

  it('serves a session of exactly maxSessionBytes in full', async () => {
    const { port } = await start({ maxSessionBytes: 1000 });
    const client = await connect(port);
    const sent = randomBytes(1000);
    const received = readToEnd(client);
    client.end(sent);
    expect((await received).equals(sent)).toBe(true);
  });

  it('keeps its memory bounded for a client that does not read (backpressure)', async () => {
    const { server, port } = await start();
    const client = await connect(port); // no 'data' listener: the client reads nothing yet
    const sent = randomBytes(64 * MiB);
    const paused = once(server.events, 'backpressure');
    client.write(sent);
    const [{ bufferedBytes }] = await paused;
    // The server stopped reading long before it had the whole stream; the rest waits in
    // the kernel buffers and in the client, not in the server's memory.
    expect(server.stats.bytesIn).toBeLessThan(16 * MiB);
    expect(bufferedBytes).toBeLessThanOrEqual(MiB);
    const received = readToEnd(client);
    client.end();
    expect((await received).equals(sent)).toBe(true);
    expect(server.stats.peakBufferedBytes).toBeLessThanOrEqual(MiB);
  });

  it.each<[string, EchoServerOptions]>([
    ['a negative idle timeout', { idleTimeoutMs: -1 }],
    ['a fractional limit', { maxSessionBytes: 1.5 }],
    ['no connections at all', { maxConnections: 0 }],
    ['a port out of range', { port: 70_000 }],
    ['a NaN', { maxConnections: Number.NaN }],
    ['an exit command over two lines', { exitCommand: 'ex\nit' }],
  ])('refuses %s', (_, options) => {
    expect(() => createEchoServer(options)).toThrow(RangeError);
  });
});

describe('errors', () => {
  it('survives a client that resets its connection', async () => {
    const { server, port } = await start();
    const client = await connect(port);
    const reader = createReader(client);
    client.write('hi\n');
    await reader.read(3);
    const closed = once(server.events, 'session-close');
    client.resetAndDestroy();
    const [summary] = await closed;
    expect(summary).toMatchObject({ reason: 'error', errorCode: 'ECONNRESET' });
    const again = await connect(port);
    const received = readToEnd(again);
    again.end('ok');
    expect((await received).toString()).toBe('ok');
  });

  it('rejects listen() when the port is taken', async () => {
    const { port } = await start();
    const second = createEchoServer({ port });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.close(0);
  });
});

describe('close', () => {
  it('stops accepting, lets sessions finish before the deadline, then ends the rest', async () => {
    const { server, port } = await start();
    const idle = await connect(port);
    const busy = await connect(port);
    const idleGot = readToEnd(idle);
    const busyReader = createReader(busy);

    const closed = server.close(300);
    expect(server.listening).toBe(false);
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    busy.write('still echoing\n'); // an open session keeps working until the deadline
    expect((await busyReader.read(14)).toString()).toBe('still echoing\n');
    busy.end();
    await busyReader.ended;

    await closed;
    expect((await idleGot).length).toBe(0); // the idle client got FIN, then closed
    expect(server.stats.closes).toMatchObject({ 'client-end': 1, shutdown: 1 });
    expect(server.stats.open).toBe(0);
    expect(server.close()).toBe(closed); // twice is safe: the same promise
  });

  it('destroys a session that ignores the FIN after forceCloseAfterMs', async () => {
    const { server, port } = await start({ forceCloseAfterMs: 20 });
    const stubborn = await connect(port, { allowHalfOpen: true });
    stubborn.on('data', () => {});
    const sessionClosed = once(server.events, 'session-close');
    await server.close(10);
    const [summary] = await sessionClosed;
    expect(summary).toMatchObject({ reason: 'shutdown' });
    stubborn.destroy();
  });

  it('closes at once a server that never listened', async () => {
    const server = createEchoServer({ port: 0 });
    await server.close();
    expect(server.listening).toBe(false);
  });
});

describe('createEchoServer', () => {
  it('returns an unstarted server', async () => {
    const server = createEchoServer({ port: 0 });
    expect(server.listening).toBe(false);
    expect(server.stats).toMatchObject({ open: 0, connectionsTotal: 0, bytesIn: 0 });
    await server.close();
  });
});
