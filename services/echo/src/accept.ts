// Accepting connections: the node:net server with the socket options every session relies
// on, and the connection cap. The cap is node's own `server.maxConnections` (the socket
// over it is closed before any session exists for it); this module counts, logs and
// reports those refusals.
import type { EventEmitter } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Logger } from '@flagship/runtime';
import { formatPeer, type EchoServerEvents, type EchoStats } from './telemetry.ts';

export interface AcceptDeps {
  maxConnections: number;
  stats: EchoStats;
  events: EventEmitter<EchoServerEvents>;
  logger: Logger;
  /** Called for each accepted socket, with `this` the server. */
  onConnection(socket: Socket): void;
}

export function createAcceptor({ maxConnections, stats, events, logger, onConnection }: AcceptDeps): net.Server {
  // allowHalfOpen: when a client shuts down its sending side we still owe it the echo
  // of what it sent; we end our side ourselves once that is written.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  server.maxConnections = maxConnections;
  server.on('drop', (drop) => {
    stats.refused += 1;
    const peer = formatPeer(drop?.remoteAddress, drop?.remotePort);
    logger.warn({ peer, maxConnections }, 'connection refused: too many open connections');
    events.emit('refused', { peer });
  });
  return server;
}

/** Start listening; resolves with the bound address, rejects when the port is taken. */
export function listenOn(server: net.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    // A large backlog: bursts of connects (benchmarks, reconnect storms) wait in the
    // kernel queue instead of being retried by the client a second later.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
