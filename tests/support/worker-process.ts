// Worker processes for fault tests: each runs worker-child.ts (the worker as main.ts
// builds it, with short locks) in its own Node process, so a test can SIGKILL it with
// no chance to clean up. Resolves once the worker is connected (and, unless it is a
// spare, taking jobs). Starting Node takes seconds on a loaded machine: a test that
// replaces a killed worker at once starts spares ahead and run()s one.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface WorkerProcessOptions {
  redisUrl: string;
  originUrl: string;
  downloadsDir: string;
  prefix: string;
  /** More worker variables (WORKER_CONCURRENCY, FLAG_CONCURRENCY, ...). */
  env?: Record<string, string>;
  /** A warm spare: connected, but takes no job until run(). */
  spare?: boolean;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** A spare starts taking jobs (at once: its process is up and connected). */
  run(): void;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

const CHILD = path.join(import.meta.dirname, 'worker-child.ts');

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      ...options.env,
      REDIS_URL: options.redisUrl,
      ORIGIN_URL: options.originUrl,
      DOWNLOADS_DIR: options.downloadsDir,
      TEST_PREFIX: options.prefix,
      LOG_LEVEL: 'silent',
      WAIT_FOR_RUN: options.spare === true ? '1' : '',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line === 'ready' && resolve());
    child.once('exit', (code, signal) =>
      reject(new Error(`worker process exited before it was ready (${code ?? signal})`)),
    );
  });
  return {
    child,
    run() {
      child.stdin?.write('run\n');
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
