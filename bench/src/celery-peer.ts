// The Celery peer (bench/peers/celery): N Celery workers (prefork, Debian's python3-celery)
// on the same Redis as Flagship (its own database number), and one long-lived Python
// client (client.py) that submits downloads and times them from before the task is sent
// to the result in hand. The harness talks to the client one JSON line at a time.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PYTHON } from './system-packages.ts';

export interface CeleryPeerOptions {
  /** bench/peers/celery */
  peerDir: string;
  /** redis://[:PASSWORD@]HOST:6379/1: broker and result backend. */
  brokerUrl: string;
  logDir: string;
}

export interface PeerDownload {
  /** Submit → result, timed by the client. */
  seconds: number;
  saved: number;
}

export interface CeleryPeer {
  /** Stop the running workers, start `count` fresh ones and wait until each answers. */
  setWorkers(count: number): Promise<void>;
  /** One download (one task), awaited. */
  download(codes: readonly string[], baseUrl: string, destDir: string): Promise<PeerDownload>;
  /** `downloads` tasks of the same codes sent at once, all awaited. */
  batch(downloads: number, codes: readonly string[], baseUrl: string, destDir: string): Promise<PeerDownload>;
  /** Host pids of the workers' main processes. */
  workerPids(): number[];
  close(): Promise<void>;
}

/** One answer line of client.py; throws on an `error` answer or anything malformed. */
export function parsePeerAnswer(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`the Celery client printed "${line.slice(0, 200)}", not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`the Celery client answered ${line.slice(0, 200)}`);
  }
  const answer = value as Record<string, unknown>;
  if (typeof answer.error === 'string') throw new Error(`the Celery client failed: ${answer.error}`);
  return answer;
}

/** A timed answer: `seconds` and `saved` as finite numbers. */
export function parsePeerDownload(line: string): PeerDownload {
  const answer = parsePeerAnswer(line);
  const { seconds, saved } = answer;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || typeof saved !== 'number') {
    throw new Error(`the Celery client answered ${line.slice(0, 200)}, without seconds and saved`);
  }
  return { seconds, saved };
}

interface PeerWorker {
  child: ChildProcess;
  exited: Promise<void>;
}

export async function startCeleryPeer(options: CeleryPeerOptions): Promise<CeleryPeer> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    CELERY_BROKER_URL: options.brokerUrl,
    PYTHONDONTWRITEBYTECODE: '1',
  };
  let workers: PeerWorker[] = [];
  let started = 0;

  const client = spawn(PYTHON, [path.join(options.peerDir, 'client.py')], {
    cwd: options.peerDir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let clientStderr = '';
  client.stderr.on('data', (chunk: Buffer) => (clientStderr = (clientStderr + chunk.toString()).slice(-4000)));
  const clientExited = new Promise<void>((resolve) => client.once('exit', () => resolve()));
  const lines = createInterface({ input: client.stdout })[Symbol.asyncIterator]();
  let queue: Promise<unknown> = Promise.resolve();

  /** One request, one answer line; requests never overlap. */
  function ask(request: object): Promise<string> {
    const answer = queue.then(async () => {
      client.stdin.write(JSON.stringify(request) + '\n');
      const next = await lines.next();
      if (next.done === true) throw new Error(`the Celery client exited: ${clientStderr.trim().slice(-1500)}`);
      return next.value;
    });
    queue = answer.catch(() => undefined);
    return answer;
  }

  function startWorker(): PeerWorker {
    started += 1;
    const log = openSync(path.join(options.logDir, `celery-worker-${started}.log`), 'a');
    try {
      const child = spawn(
        PYTHON,
        [
          '-m',
          'celery',
          '-A',
          'flags_peer',
          'worker',
          '--pool=prefork',
          '--loglevel=WARNING',
          // Fewer broker round trips, as production guides advise for a fixed set of workers.
          '--without-gossip',
          '--without-mingle',
          '--without-heartbeat',
          '-n',
          `bench${started}-${process.pid}@%h`,
        ],
        // Its own process group: a stuck worker and its pool children go together.
        { cwd: options.peerDir, env, stdio: ['ignore', log, log], detached: true },
      );
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      return { child, exited };
    } finally {
      closeSync(log);
    }
  }

  async function stopWorkers(): Promise<void> {
    await Promise.all(
      workers.map(async ({ child, exited }) => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        child.kill('SIGTERM'); // warm shutdown: finish running tasks, stop the pool
        const timer = setTimeout(() => {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        }, 20_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    workers = [];
  }

  async function timed(request: object): Promise<PeerDownload> {
    return parsePeerDownload(await ask(request));
  }

  return {
    async setWorkers(count) {
      await stopWorkers();
      for (let i = 0; i < count; i++) workers.push(startWorker());
      parsePeerAnswer(await ask({ op: 'ready', workers: count }));
    },
    download: (codes, baseUrl, destDir) => timed({ op: 'download', codes, base_url: baseUrl, dest: destDir }),
    batch: (downloads, codes, baseUrl, destDir) =>
      timed({ op: 'batch', downloads, codes, base_url: baseUrl, dest: destDir }),
    workerPids: () => workers.flatMap(({ child }) => (child.pid === undefined ? [] : [child.pid])),
    async close() {
      await stopWorkers();
      if (client.exitCode === null) {
        client.stdin.end(JSON.stringify({ op: 'quit' }) + '\n');
        const timer = setTimeout(() => client.kill('SIGKILL'), 5_000);
        await clientExited;
        clearTimeout(timer);
      }
    },
  };
}
