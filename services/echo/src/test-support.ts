// Socket helpers for the echo tests: connect, read an exact number of bytes, read to the
// end. Every wait is on a socket event, never on time.
import { once } from 'node:events';
import net, { type Socket } from 'node:net';

export async function connect(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
  await once(socket, 'connect');
  return socket;
}

/** Everything the socket receives until the server's FIN (or close). */
export function readToEnd(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/**
 * Reads exact byte counts from a socket, in order: `read(n)` resolves with the next n
 * bytes, `ended` once the server has sent FIN.
 */
export function createReader(socket: Socket): { read(length: number): Promise<Buffer>; ended: Promise<Buffer> } {
  let buffered = Buffer.alloc(0);
  let waiting: { length: number; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | undefined;
  let failure: Error | undefined;
  let resolveEnded: (rest: Buffer) => void = () => {};
  const ended = new Promise<Buffer>((resolve) => (resolveEnded = resolve));

  function settle(): void {
    if (waiting === undefined) return;
    if (buffered.length >= waiting.length) {
      const bytes = buffered.subarray(0, waiting.length);
      buffered = buffered.subarray(waiting.length);
      const { resolve } = waiting;
      waiting = undefined;
      resolve(bytes);
    } else if (failure !== undefined) {
      const { reject } = waiting;
      waiting = undefined;
      reject(failure);
    }
  }
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    settle();
  });
  socket.on('end', () => {
    failure = new Error(`the server ended the stream with ${buffered.length} bytes unread`);
    resolveEnded(buffered);
    settle();
  });
  socket.on('error', (error) => {
    failure = error;
    settle();
  });

  return {
    read(length) {
      return new Promise((resolve, reject) => {
        waiting = { length, resolve, reject };
        settle();
      });
    },
    ended,
  };
}

/** Write `bytes` in pieces of random sizes (1..maxPiece), so the server sees any chunking. */
export function writeInRandomPieces(socket: Socket, bytes: Buffer, maxPiece: number): void {
  let offset = 0;
  while (offset < bytes.length) {
    const size = 1 + Math.floor(Math.random() * maxPiece);
    socket.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
}
