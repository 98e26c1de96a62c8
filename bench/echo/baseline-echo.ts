// The benchmark's baseline: the smallest correct Node echo server, `socket.pipe(socket)`.
// Prints {"port": n} on stdout once listening; exits 0 on SIGTERM.
import net, { type AddressInfo } from 'node:net';

const server = net.createServer((socket) => {
  socket.on('error', () => {}); // a reset client must not crash the baseline
  socket.pipe(socket);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
