// The echo client behind `flagship echo`. On a terminal it is the reference's
// interactive client: a prompt, each line sent, `Received: <echo>` printed, `exit`
// quits. Otherwise it is a byte-exact pipe: stdin to the server, the echo to stdout,
// half-close at the end of the input, done when the server has closed.
import net, { type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { ExitCodes, type CliIO } from '../cli-io.ts';
import type { EchoTarget } from './echo-target.ts';

export interface EchoClientOptions extends EchoTarget {
  /** Give up connecting after this long. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Interactive (prompt, `Received: ...`) or pipe. Default: interactive when stdin is a TTY. */
  interactive?: boolean;
  /** The line that ends the session. Default `exit`. */
  exitCommand?: string;
  /** The prompt shown before each line in interactive mode. Default `> `. */
  prompt?: string;
}

/** Connect, run the session, and resolve with the exit code. Never throws. */
export async function runEchoClient(options: EchoClientOptions, io: CliIO): Promise<number> {
  const where = formatTarget(options);
  let socket: Socket;
  try {
    socket = await connect(options, options.connectTimeoutMs ?? 5_000);
  } catch (error) {
    io.stderr.write(`flagship echo: cannot connect to ${where}: ${describeConnectError(error)}\n`);
    return ExitCodes.failed;
  }
  const interactive = options.interactive ?? io.stdin.isTTY === true;
  return interactive ? interactiveSession(socket, where, options, io) : pipeSession(socket, where, io);
}

function connect(target: EchoTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
  });
}

/**
 * Bytes in, bytes out, untouched: exit 0 once the server closes after our end of input.
 * An interrupt (io.signal, Ctrl-C) drops the connection: exit 130.
 */
function pipeSession(socket: Socket, where: string, io: CliIO): Promise<number> {
  return new Promise((resolve) => {
    let inputEnded = false;
    let interrupted = false;
    let failure: string | undefined;
    const onAbort = () => {
      interrupted = true;
      io.stdin.unpipe(socket);
      io.stdin.pause();
      socket.destroy();
    };
    io.signal?.addEventListener('abort', onAbort, { once: true });
    io.stdin.once('end', () => (inputEnded = true));
    io.stdin.pipe(socket); // ends our sending side (half-close) at the end of stdin
    socket.pipe(io.stdout, { end: false });
    socket.on('error', (error: NodeJS.ErrnoException) => (failure ??= `${where}: ${error.code ?? error.message}`));
    io.stdout.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= `cannot write the echo: ${error.code ?? error.message}`;
      socket.destroy();
    });
    socket.once('end', () => {
      if (!inputEnded) {
        failure ??= `the server at ${where} closed the connection before the end of the input`;
        io.stdin.unpipe(socket);
        io.stdin.pause();
      }
    });
    socket.once('close', () => {
      io.signal?.removeEventListener('abort', onAbort);
      if (interrupted) return resolve(ExitCodes.interrupted);
      if (failure === undefined) return resolve(ExitCodes.ok);
      io.stderr.write(`flagship echo: ${failure}\n`);
      resolve(ExitCodes.failed);
    });
    if (io.signal?.aborted === true) onAbort();
  });
}

/** The reference's client: prompt, send a line, print `Received: ...`, `exit` quits. */
function interactiveSession(socket: Socket, where: string, options: EchoClientOptions, io: CliIO): Promise<number> {
  const exitCommand = options.exitCommand ?? 'exit';
  return new Promise((resolve) => {
    const lines = createInterface({ input: io.stdin, output: io.stdout, prompt: options.prompt ?? '> ' });
    const decoder = new StringDecoder('utf8');
    let partial = '';
    let sent = 0;
    let answered = 0;
    let quitting = false;
    let failure: string | undefined;
    // A server that keeps the connection open after our FIN would keep us here forever.
    let quitTimer: NodeJS.Timeout | undefined;

    io.stdout.write(`Connected to ${where}. Type a line to send it; "${exitCommand}" quits.\n`);
    lines.prompt();

    lines.on('line', (line) => {
      if (quitting) return;
      if (line === exitCommand) {
        socket.write(`${line}\n`);
        quit();
        return;
      }
      sent += 1;
      socket.write(`${line}\n`);
    });
    // Ctrl-D or Ctrl-C (in raw mode, or as a signal: io.signal): leave like `exit`, without sending it.
    lines.on('SIGINT', () => lines.close());
    io.signal?.addEventListener('abort', quit, { once: true });
    lines.on('close', quit);

    socket.on('data', (chunk: Buffer) => {
      partial += decoder.write(chunk);
      let newline = partial.indexOf('\n');
      while (newline !== -1) {
        showReply(partial.slice(0, newline).replace(/\r$/, ''));
        partial = partial.slice(newline + 1);
        newline = partial.indexOf('\n');
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (failure ??= `${where}: ${error.code ?? error.message}`));
    socket.once('end', () => {
      if (!quitting) io.stdout.write(`\nThe server closed the connection.\n`);
      quit();
    });
    socket.once('close', () => {
      io.signal?.removeEventListener('abort', quit);
      clearTimeout(quitTimer);
      lines.close();
      if (failure === undefined) return resolve(ExitCodes.ok);
      io.stderr.write(`flagship echo: ${failure}\n`);
      resolve(ExitCodes.failed);
    });

    function showReply(text: string): void {
      // Replies come back in order; the echo of our own `exit` is not a reply to show.
      if (answered >= sent && quitting) return;
      answered += 1;
      io.stdout.write(`Received: ${text}\n`);
      if (!quitting) lines.prompt();
    }

    function quit(): void {
      if (quitting) return;
      quitting = true;
      lines.close();
      socket.end();
      quitTimer = setTimeout(() => socket.destroy(), 5_000);
    }
  });
}

function formatTarget({ host, port }: EchoTarget): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeConnectError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the echo server running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return (error as Error).message;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return code ?? (error as Error).message;
  }
}
