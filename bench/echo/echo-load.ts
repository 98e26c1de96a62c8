// The echo benchmark's three loads, run from this process against a server on
// 127.0.0.1: streaming throughput, request/response round trips, and many idle
// connections held open.
import net, { type Socket } from 'node:net';

export interface ThroughputResult {
  /** Echoed bytes received per second, all connections together. */
  bytesPerSecond: number;
  errors: number;
  /** Server CPU (user + system) per MiB received, ms, when the server's CPU clock was given. */
  serverCpuMsPerMiB?: number;
}

export interface RoundTripResult {
  roundTripsPerSecond: number;
  errors: number;
  /** Server CPU (user + system) per 1000 round trips, ms, when the server's CPU clock was given. */
  serverCpuMsPer1k?: number;
}

/** Reads the server process's CPU time used so far, ms. */
export type CpuClock = () => number;

export interface IdleResult {
  connected: number;
  errors: number;
  /** Connections still answering an echo after the hold. */
  alive: number;
  /** The server's resident memory while all connections are held, bytes. */
  serverRssBytes: number;
  connectMs: number;
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `connections` clients each write `blockBytes` blocks as fast as the server echoes them. */
export async function measureThroughput(
  port: number,
  options: { connections: number; blockBytes: number; durationMs: number; serverCpu?: CpuClock },
): Promise<ThroughputResult> {
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => connect(port)));
  const block = Buffer.alloc(options.blockBytes, 0x61);
  let counting = false;
  let running = true;
  let received = 0;
  let errors = 0;
  for (const socket of sockets) {
    socket.on('error', () => (errors += 1));
    socket.on('data', (chunk: Buffer) => {
      if (counting) received += chunk.length;
    });
    const pump = (): void => {
      while (running && socket.write(block));
    };
    socket.on('drain', pump);
    pump();
  }
  await delay(Math.min(1_000, options.durationMs / 5)); // warm-up: windows and buffers open
  counting = true;
  const started = performance.now();
  const cpuStarted = options.serverCpu?.();
  await delay(options.durationMs);
  counting = false;
  const cpuMs = cpuStarted === undefined ? undefined : (options.serverCpu?.() ?? 0) - cpuStarted;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  for (const socket of sockets) socket.destroy();
  const result: ThroughputResult = { bytesPerSecond: received / seconds, errors };
  if (cpuMs !== undefined) result.serverCpuMsPerMiB = cpuMs / (received / 2 ** 20);
  return result;
}

/** `connections` clients each send `messageBytes`, wait for all of it back, and repeat. */
export async function measureRoundTrips(
  port: number,
  options: { connections: number; messageBytes: number; durationMs: number; serverCpu?: CpuClock },
): Promise<RoundTripResult> {
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => connect(port)));
  const message = Buffer.alloc(options.messageBytes, 0x62);
  let counting = false;
  let running = true;
  let roundTrips = 0;
  let errors = 0;
  for (const socket of sockets) {
    let pending = message.length;
    socket.on('error', () => (errors += 1));
    socket.on('data', (chunk: Buffer) => {
      pending -= chunk.length;
      if (pending > 0) return;
      if (pending < 0) errors += 1; // more came back than was sent: not an echo
      if (counting) roundTrips += 1;
      pending = message.length;
      if (running) socket.write(message);
    });
    socket.write(message);
  }
  await delay(Math.min(1_000, options.durationMs / 5));
  counting = true;
  const started = performance.now();
  const cpuStarted = options.serverCpu?.();
  await delay(options.durationMs);
  counting = false;
  const cpuMs = cpuStarted === undefined ? undefined : (options.serverCpu?.() ?? 0) - cpuStarted;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  for (const socket of sockets) socket.destroy();
  const result: RoundTripResult = { roundTripsPerSecond: roundTrips / seconds, errors };
  if (cpuMs !== undefined) result.serverCpuMsPer1k = cpuMs / (roundTrips / 1000);
  return result;
}

/**
 * Open `connections` idle connections (`batch` connects at a time), hold them for
 * `holdMs`, read the server's memory, then check a sample still echoes.
 */
export async function holdIdleConnections(
  port: number,
  options: { connections: number; batch: number; holdMs: number; sample: number; readRss: () => Promise<number> },
): Promise<IdleResult> {
  const sockets: Socket[] = [];
  let errors = 0;
  let closedEarly = 0;
  const started = performance.now();
  for (let opened = 0; opened < options.connections; opened += options.batch) {
    const count = Math.min(options.batch, options.connections - opened);
    const results = await Promise.allSettled(Array.from({ length: count }, () => connect(port)));
    for (const result of results) {
      if (result.status === 'rejected') errors += 1;
      else {
        result.value.on('error', () => (errors += 1));
        result.value.on('close', () => (closedEarly += 1));
        sockets.push(result.value);
      }
    }
  }
  const connectMs = performance.now() - started;
  await delay(options.holdMs);
  const serverRssBytes = await options.readRss();
  const step = Math.max(1, Math.floor(sockets.length / options.sample));
  const probes = sockets.filter((_, index) => index % step === 0).slice(0, options.sample);
  const answers = await Promise.all(probes.map((socket) => probe(socket)));
  const alive = answers.filter(Boolean).length;
  const errorsBeforeClose = errors + closedEarly;
  for (const socket of sockets) {
    socket.removeAllListeners('close');
    socket.destroy();
  }
  return { connected: sockets.length, errors: errorsBeforeClose, alive, serverRssBytes, connectMs };
}

/** Does this connection still echo? (a 5 s bound: the server may be busy, not dead) */
function probe(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString() === 'p');
    });
    socket.write('p');
  });
}
