// One Flagship service run as its own Node process (`node services/<x>/src/main.ts`),
// as in production: its own event loop, configured only by environment variables. The
// harness waits for its HTTP readiness endpoint, reads its peak memory from /proc, and
// stops it with SIGTERM (its graceful shutdown), or SIGKILL if that hangs.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { waitForHttpOk } from './ports.ts';

export interface ServiceProcess {
  name: string;
  pid: number;
  /** The readiness URL it answered (its health port). */
  readyUrl: string;
  /** Peak resident set size since start (VmHWM from /proc), in bytes. */
  peakRssBytes(): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 15 s). Safe twice. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServiceProcessOptions {
  name: string;
  /** Path of main.ts. */
  script: string;
  env: Record<string, string>;
  /** GET this until it answers 200. */
  readyUrl: string;
  /** stdout and stderr go to `{logDir}/{name}.log`. */
  logDir: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
}

export function parseVmHwm(status: string): number {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error('no VmHWM line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
      // PATH and HOME only: the harness's own environment (PORT, REDIS_URL, ...) must not leak in.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} did not start`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;

  const service: ServiceProcess = {
    name: options.name,
    pid,
    readyUrl: options.readyUrl,
    async peakRssBytes() {
      return parseVmHwm(await readFile(`/proc/${pid}/status`, 'utf8'));
    },
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };

  try {
    await waitForHttpOk(options.readyUrl, {
      stillAlive: () => {
        if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode}; see ${logFile}`);
      },
    });
  } catch (error) {
    await service.stop(1_000);
    throw error;
  }
  return service;
}
