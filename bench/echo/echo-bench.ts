// The echo benchmark: Flagship's echo service (production settings, logs at info)
// against a minimal `socket.pipe(socket)` server, both started here as child processes
// on 127.0.0.1, in alternating order, fresh processes each run. Writes RESULTS.md and
// results.json next to this file.
//
//   node bench/echo/echo-bench.ts [--runs 3] [--throughput-seconds 10] [--rtt-seconds 5]
//                                  [--idle-connections 10000] [--hold-seconds 3]
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { holdIdleConnections, measureRoundTrips, measureThroughput, type IdleResult } from './echo-load.ts';
import { renderResults, summarize, type BenchResults, type RunSample, type ServerName } from './echo-report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BASELINE = path.join(here, 'baseline-echo.ts');
const ECHO_MAIN = path.join(root, 'services/echo/src/main.ts');
/** The image's command line (Dockerfile `echo` stage): keep the two the same. */
export const ECHO_NODE_FLAGS = ['--max-semi-space-size=4'];
const FD_LIMIT = 65_536;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'throughput-seconds': { type: 'string', default: '10' },
    'rtt-seconds': { type: 'string', default: '5' },
    'idle-connections': { type: 'string', default: '10000' },
    'hold-seconds': { type: 'string', default: '3' },
    out: { type: 'string', default: here },
  },
});
const settings = {
  runs: positive('runs'),
  throughputMs: positive('throughput-seconds') * 1000,
  rttMs: positive('rtt-seconds') * 1000,
  idleConnections: positive('idle-connections'),
  holdMs: positive('hold-seconds') * 1000,
};

function positive(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** 10,000 client sockets need more descriptors than many shells allow: re-run under a raised limit. */
function ensureFileLimit(): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? 0);
  if (soft >= settings.idleConnections + 1_000) return;
  if (process.env.ECHO_BENCH_RAISED === '1') {
    throw new Error(
      `open-file limit ${soft} is too low for ${settings.idleConnections} connections; run "ulimit -n ${FD_LIMIT}" first`,
    );
  }
  console.log(`raising the open-file limit (${soft}) to ${FD_LIMIT} and starting again`);
  const args = [...process.execArgv, ...process.argv.slice(1)].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`);
  execFileSync('sh', ['-c', `ulimit -n ${FD_LIMIT} && exec '${process.execPath}' ${args.join(' ')}`], {
    stdio: 'inherit',
    env: { ...process.env, ECHO_BENCH_RAISED: '1' },
  });
  process.exit(0);
}

interface ServerProcess {
  name: ServerName;
  child: ChildProcessWithoutNullStreams;
  port: number;
  logLines: number;
}

/** Start a server under a raised descriptor limit; resolves once it has said its port. */
async function startServer(name: ServerName): Promise<ServerProcess> {
  const command =
    name === 'baseline' ? [process.execPath, BASELINE] : [process.execPath, ...ECHO_NODE_FLAGS, ECHO_MAIN];
  const child = spawn('sh', ['-c', `ulimit -n ${FD_LIMIT} 2>/dev/null; exec "$@"`, 'sh', ...command], {
    env: {
      PATH: process.env.PATH,
      ECHO_HOST: '127.0.0.1',
      ECHO_PORT: '0',
      ECHO_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    },
  });
  const server: ServerProcess = { name, child, port: 0, logLines: 0 };
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  const lines = createInterface({ input: child.stdout });
  // Every log line is read (and counted): a full pipe would stall the server.
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)));
    lines.on('line', (line) => {
      server.logLines += 1;
      if (ready) return;
      const record = JSON.parse(line) as { port?: number; msg?: string };
      if (name === 'baseline' || record.msg === 'echo server listening') server.port = record.port ?? 0;
      if (name === 'baseline' || record.msg === 'echo ready') {
        ready = true;
        resolve();
      }
    });
  });
  return server;
}

async function stopServer(server: ServerProcess): Promise<number | null> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

function rssOf(pid: number | undefined): Promise<number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Promise.resolve(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024);
}

/**
 * One run: fresh processes of both servers; the idle scenario first on each (memory of
 * a fresh process), then throughput and round trips in short slices alternating
 * between the two servers, so that noise from anything else on the machine lands on
 * both alike.
 */
async function runOnce(run: number, order: ServerName[]): Promise<RunSample[]> {
  const servers = new Map<ServerName, ServerProcess>();
  try {
    for (const name of order) servers.set(name, await startServer(name));
    const idle = new Map<ServerName, IdleResult>();
    for (const name of order) {
      const server = servers.get(name) as ServerProcess;
      idle.set(
        name,
        await holdIdleConnections(server.port, {
          connections: settings.idleConnections,
          batch: 500,
          holdMs: settings.holdMs,
          sample: 200,
          readRss: () => rssOf(server.child.pid),
        }),
      );
    }
    const throughput = await alternate(order, servers, settings.throughputMs, THROUGHPUT_SLICE_MS, (server, ms) =>
      measureThroughput(server.port, {
        connections: 10,
        blockBytes: 64 * 1024,
        durationMs: ms,
        serverCpu: () => cpuMsOf(server.child.pid),
      }).then((result) => {
        const amount = result.bytesPerSecond * (ms / 1000);
        return { amount, errors: result.errors, cpuMs: (result.serverCpuMsPerMiB ?? 0) * (amount / 2 ** 20) };
      }),
    );
    const roundTrips = await alternate(order, servers, settings.rttMs, ROUND_TRIP_SLICE_MS, (server, ms) =>
      measureRoundTrips(server.port, {
        connections: 10,
        messageBytes: 1024,
        durationMs: ms,
        serverCpu: () => cpuMsOf(server.child.pid),
      }).then((result) => {
        const amount = result.roundTripsPerSecond * (ms / 1000);
        return { amount, errors: result.errors, cpuMs: (result.serverCpuMsPer1k ?? 0) * (amount / 1000) };
      }),
    );
    const samples: RunSample[] = [];
    for (const name of order) {
      const streamed = throughput.get(name)!;
      const echoed = roundTrips.get(name)!;
      samples.push({
        server: name,
        run,
        throughput: {
          bytesPerSecond: streamed.rate,
          errors: streamed.errors,
          serverCpuMsPerMiB: streamed.cpuMs / (streamed.amount / 2 ** 20),
        },
        roundTrips: {
          roundTripsPerSecond: echoed.rate,
          errors: echoed.errors,
          serverCpuMsPer1k: echoed.cpuMs / (echoed.amount / 1000),
        },
        idle: idle.get(name)!,
        exitCode: await stopServer(servers.get(name)!),
      });
    }
    return samples;
  } finally {
    for (const server of servers.values()) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}

const THROUGHPUT_SLICE_MS = 2_000;
const ROUND_TRIP_SLICE_MS = 1_000;

interface SliceResult {
  amount: number;
  errors: number;
  /** Server CPU used while `amount` was counted, ms. */
  cpuMs: number;
}

/** Measure `totalMs` per server in slices of `sliceMs`, taking turns. */
async function alternate(
  order: ServerName[],
  servers: Map<ServerName, ServerProcess>,
  totalMs: number,
  sliceMs: number,
  measure: (server: ServerProcess, ms: number) => Promise<SliceResult>,
): Promise<Map<ServerName, SliceResult & { rate: number }>> {
  const totals = new Map(order.map((name) => [name, { amount: 0, ms: 0, errors: 0, cpuMs: 0 }]));
  for (let done = 0; done < totalMs; done += sliceMs) {
    const ms = Math.min(sliceMs, totalMs - done);
    for (const name of order) {
      const result = await measure(servers.get(name)!, ms);
      const total = totals.get(name)!;
      total.amount += result.amount;
      total.ms += ms;
      total.errors += result.errors;
      total.cpuMs += result.cpuMs;
    }
  }
  return new Map([...totals].map(([name, total]) => [name, { ...total, rate: total.amount / (total.ms / 1000) }]));
}

/**
 * CPU time (user + system, every thread: GC helpers too) a process has used, ms, from
 * /proc/<pid>/stat, counted in clock ticks of 10 ms (USER_HZ is 100 on Linux).
 */
function cpuMsOf(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function gitCommit(): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', 'services/echo', 'bench/echo'],
      {
        cwd: root,
      },
    )
      .toString()
      .trim();
    return dirty === '' ? hash : `${hash} (echo files changed since)`;
  } catch {
    return 'unknown';
  }
}

ensureFileLimit();
const samples: RunSample[] = [];
for (let run = 1; run <= settings.runs; run += 1) {
  // Alternate who goes first, so warm caches and thermal drift favour neither.
  const order: ServerName[] = run % 2 === 1 ? ['baseline', 'flagship'] : ['flagship', 'baseline'];
  for (const sample of await runOnce(run, order)) {
    samples.push(sample);
    const name = sample.server;
    console.log(
      `run ${run} ${name.padEnd(8)} throughput ${(sample.throughput.bytesPerSecond / 2 ** 20).toFixed(0)} MiB/s, ` +
        `round trips ${sample.roundTrips.roundTripsPerSecond.toFixed(0)}/s, ` +
        `server CPU ${sample.throughput.serverCpuMsPerMiB?.toFixed(3)} ms/MiB, ${sample.roundTrips.serverCpuMsPer1k?.toFixed(2)} ms/1k round trips, idle ${sample.idle.connected} held ` +
        `(${sample.idle.errors} errors, ${sample.idle.alive} probes alive), server RSS ${(sample.idle.serverRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

const cpus = os.cpus();
const results: BenchResults = {
  date: new Date().toISOString(),
  commit: gitCommit(),
  machine: {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  },
  settings: { ...settings, echoNodeFlags: ECHO_NODE_FLAGS },
  samples,
  summary: summarize(samples),
};
writeFileSync(path.join(values.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(path.join(values.out, 'RESULTS.md'), renderResults(results));
console.log(renderResults(results));
