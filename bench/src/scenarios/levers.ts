// Levers on the compose stack, measured rather than assumed (`BENCH_ONLY=levers`; not in a
// default run). Each lever is a change to the worker or the compose file that this
// checkout does not make: a patch applied to a copy of the committed sources and built
// into an image of the benchmark's own, or one more compose file (bench/compose/levers/).
// For each lever the changed services are recreated, then all countries (cold) and the
// reference's 20 codes (cold) run paired with the reference program, round by round;
// levers are compared through their paired ratios to the reference, which cancel the
// machine's load drifting between levers. Two passes, the second in reverse order.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { COUNTRY_CODES, REFERENCE_CODES } from '@flagship/common';
import type { ComposeStack, StackVariant } from '../compose-stack.ts';
import { createDownloadsClient } from '../downloads-client.ts';
import { emptyDir, listFlags } from '../files.ts';
import type { StaticOrigin } from '../nginx.ts';
import { containerCpuNs } from '../proc.ts';
import { runReference } from '../reference.ts';
import { formatSpread, type ResultRow } from '../report.ts';
import { describe, pairedRatios } from '../stats.ts';
import type { BenchContext, ScenarioResult } from './context.ts';
import { rotate } from './rotation.ts';

const run = promisify(execFile);

export interface Lever {
  name: string;
  /** The exact change, for the notes. */
  change: string;
  /** Compose files (relative to the repository) applied for this lever. */
  files: readonly string[];
  /** A patch to build the worker image from, with its tag (the compose file names that tag). */
  workerPatch?: { patch: string; tag: string };
  /** Services recreated for it (and back afterwards). */
  services: readonly string[];
}

const LEVERS_DIR = 'bench/compose/levers';

export const ALL_LEVERS: readonly Lever[] = [
  { name: 'as deployed', change: 'none: docker-compose.yml as committed', files: [], services: ['worker'] },
  {
    name: 'store writes on the thread pool',
    change: `flag store with fs/promises (stat, readFile, writeFile 'wx', rename) instead of synchronous calls: ${LEVERS_DIR}/store-thread-pool.patch`,
    files: [`${LEVERS_DIR}/store-thread-pool.override.yml`],
    workerPatch: {
      patch: `${LEVERS_DIR}/store-thread-pool.patch`,
      tag: 'flagship-bench/worker:lever-store-thread-pool',
    },
    services: ['worker'],
  },
  {
    name: 'undici pipelining 10',
    change: `\`pipelining: 10\` in the origin dispatcher (services/worker/src/flags/origin-dispatcher.ts): ${LEVERS_DIR}/undici-pipelining.patch`,
    files: [`${LEVERS_DIR}/undici-pipelining.override.yml`],
    workerPatch: {
      patch: `${LEVERS_DIR}/undici-pipelining.patch`,
      tag: 'flagship-bench/worker:lever-undici-pipelining',
    },
    services: ['worker'],
  },
  {
    name: 'ORIGIN_CONNECTIONS=256',
    change: `worker environment ORIGIN_CONNECTIONS: '256' (default 64): ${LEVERS_DIR}/origin-connections.override.yml`,
    files: [`${LEVERS_DIR}/origin-connections.override.yml`],
    services: ['worker'],
  },
  {
    name: 'no final progress report',
    change: `a chunk that succeeded sends no last progress report (its result carries the outcomes; a failed one still reports): ${LEVERS_DIR}/no-final-progress.patch`,
    files: [`${LEVERS_DIR}/no-final-progress.override.yml`],
    workerPatch: {
      patch: `${LEVERS_DIR}/no-final-progress.patch`,
      tag: 'flagship-bench/worker:lever-no-final-progress',
    },
    services: ['worker'],
  },
  {
    name: 'progress after one interval',
    change: `as 'no final progress report', and a chunk's first report only after 100 ms, not at its first flag: ${LEVERS_DIR}/progress-after-interval.patch`,
    files: [`${LEVERS_DIR}/progress-after-interval.override.yml`],
    workerPatch: {
      patch: `${LEVERS_DIR}/progress-after-interval.patch`,
      tag: 'flagship-bench/worker:lever-progress-after-interval',
    },
    services: ['worker'],
  },
  {
    name: 'Redis without RDB snapshots',
    change: `redis-server with \`--save ''\` beside AOF (default snapshot rules otherwise): ${LEVERS_DIR}/redis-no-rdb.override.yml`,
    files: [`${LEVERS_DIR}/redis-no-rdb.override.yml`],
    services: ['redis'],
  },
];

/**
 * The levers a run measures: BENCH_LEVERS (comma-separated names) picks some, always
 * with `as deployed` first, the baseline every ratio is compared to; unset: all.
 */
export function selectLevers(names: string | undefined): readonly Lever[] {
  if (names === undefined || names.trim() === '') return ALL_LEVERS;
  const wanted = names.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !ALL_LEVERS.some((lever) => lever.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_LEVERS: unknown lever(s) ${unknown.join(', ')}; known: ${ALL_LEVERS.map((l) => l.name).join(', ')}`,
    );
  }
  return ALL_LEVERS.filter((lever, index) => index === 0 || wanted.includes(lever.name));
}

export interface LeversContext {
  base: BenchContext;
  compose: ComposeStack;
  nginx: StaticOrigin;
  repoRoot: string;
  passes: number;
  latencyRuns: number;
  /** The levers to measure (selectLevers); default all. */
  levers?: readonly Lever[];
}

/**
 * A copy of the committed sources with `patch` applied, built as the worker image `tag`.
 * The copy lives outside the repository (its tests must not join the repository's test
 * run) and is removed once built.
 */
async function buildPatchedWorker(repoRoot: string, patch: string, tag: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `flagship-bench-${path.basename(patch, '.patch')}-`));
  try {
    await run('bash', ['-c', `git -C "${repoRoot}" archive HEAD | tar -x -C "${dir}"`], {
      maxBuffer: 64 * 1024 * 1024,
    });
    await run('git', ['apply', path.join(repoRoot, patch)], { cwd: dir });
    const args = [
      'build',
      '--quiet',
      '--target',
      'worker',
      '--build-arg',
      `NODE_IMAGE=${process.env.NODE_IMAGE ?? ''}`,
    ];
    await run('docker', [...args, '-t', tag, dir], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Length of the idle window after each lever's services come up. */
const IDLE_SECONDS = 6;

interface LeverSamples {
  /** CPU of every container of the stack per second, with no download running (healthchecks, timers). */
  idleMsPerSecond: number[];
  allRatios: number[];
  allRates: number[];
  latencyMs: number[];
  latencyRatios: number[];
}

export async function leversScenario(ctx: LeversContext): Promise<ScenarioResult> {
  const { base, compose, nginx } = ctx;
  const levers = ctx.levers ?? ALL_LEVERS;
  const originUrl = nginx.flagsUrl;
  const referenceDir = path.join(compose.peersDir, 'reference');
  await mkdir(referenceDir, { recursive: true });
  for (const lever of levers) {
    if (lever.workerPatch === undefined) continue;
    base.log(`levers: building ${lever.workerPatch.tag}`);
    await buildPatchedWorker(ctx.repoRoot, lever.workerPatch.patch, lever.workerPatch.tag);
  }
  const samples = new Map<string, LeverSamples>(
    levers.map((lever) => [
      lever.name,
      { idleMsPerSecond: [], allRatios: [], allRates: [], latencyMs: [], latencyRatios: [] },
    ]),
  );

  /** CPU ms per second of all the stack's containers' cgroups over a quiet window. */
  async function idleCpu(): Promise<number> {
    const services = ['redis', 'origin', 'api', 'worker'];
    const ids = (await Promise.all(services.map((service) => compose.containers(service)))).flat().map((c) => c.id);
    const read = async () =>
      (await Promise.all(ids.map(async (id) => (await containerCpuNs(id)) ?? 0))).reduce((a, b) => a + b, 0);
    const before = await read();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const after = await read();
    return (after - before) / 1e6 / ((performance.now() - started) / 1000);
  }

  // What the previous lever changed must be put back too.
  let changed: readonly string[] = ['worker'];
  async function measure(lever: Lever): Promise<void> {
    const variant: StackVariant = { files: lever.files.map((file) => path.join(ctx.repoRoot, file)) };
    const services = [...new Set([...changed, ...lever.services])];
    base.log(`levers: ${lever.name}: recreating ${services.join(', ')}`);
    await compose.recreate(services, variant);
    changed = lever.services;
    const client = createDownloadsClient(compose.apiUrl());
    const got = samples.get(lever.name) as LeverSamples;
    got.idleMsPerSecond.push(await idleCpu());
    try {
      for (const codes of [COUNTRY_CODES, REFERENCE_CODES]) {
        const body = codes === COUNTRY_CODES ? { all: true } : { codes: [...codes] };
        const flagship = async () => {
          await emptyDir(compose.downloadsDir);
          const done = await client.download(body);
          const onDisk = (await listFlags(compose.downloadsDir)).length;
          if (onDisk !== codes.length) throw new Error(`levers (${lever.name}): ${onDisk} files of ${codes.length}`);
          return done.seconds;
        };
        const reference = async () => {
          await emptyDir(referenceDir);
          const result = await runReference({
            script: base.referenceScript,
            baseUrl: originUrl,
            destDir: referenceDir,
            codes,
          });
          return result.printedSeconds;
        };
        const runs = codes === COUNTRY_CODES ? base.runs : ctx.latencyRuns;
        const [flagshipSeconds, referenceSeconds] = (await rotate([flagship, reference], {
          warmups: base.warmups,
          runs,
        })) as [number[], number[]];
        if (codes === COUNTRY_CODES) {
          got.allRatios.push(...pairedRatios(referenceSeconds, flagshipSeconds));
          got.allRates.push(...flagshipSeconds.map((s) => codes.length / s));
        } else {
          got.latencyMs.push(...flagshipSeconds.map((s) => s * 1000));
          got.latencyRatios.push(...pairedRatios(flagshipSeconds, referenceSeconds));
        }
      }
    } finally {
      await client.close();
    }
  }

  try {
    for (let pass = 0; pass < ctx.passes; pass++) {
      const order = pass % 2 === 0 ? levers : [...levers].reverse();
      for (const lever of order) await measure(lever);
    }
  } finally {
    base.log('levers: back to the compose file as committed');
    await compose.recreate(['api', 'worker', 'origin'], {});
  }

  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const baseline = samples.get(levers[0]?.name as string) as LeverSamples;
  const baselineAll = describe(baseline.allRatios).median;
  const baselineLatency = describe(baseline.latencyRatios).median;
  for (const lever of levers) {
    const got = samples.get(lever.name) as LeverSamples;
    const allScenario = `levers: all countries (${COUNTRY_CODES.length} flags), cold, compose, 1 worker`;
    const latencyScenario = `levers: the reference's ${REFERENCE_CODES.length} codes, cold, compose, 1 worker`;
    const allRatios = describe(got.allRatios);
    const latencyRatios = describe(got.latencyRatios);
    rows.push(
      {
        scenario: allScenario,
        subject: lever.name,
        metric: 'throughput',
        unit: 'flags/s',
        stats: describe(got.allRates),
      },
      {
        scenario: allScenario,
        subject: lever.name,
        metric: 'Flagship ÷ reference speed, run by run',
        unit: '×',
        stats: allRatios,
      },
      {
        scenario: latencyScenario,
        subject: lever.name,
        metric: 'latency POST → completed',
        unit: 'ms',
        stats: describe(got.latencyMs),
      },
      {
        scenario: latencyScenario,
        subject: lever.name,
        metric: "Flagship's time ÷ reference's, run by run",
        unit: '×',
        stats: latencyRatios,
      },
      {
        scenario: `levers: the idle stack, compose, 1 worker`,
        subject: lever.name,
        metric: `CPU of all containers, ${IDLE_SECONDS} s after the services came up, no download`,
        unit: 'ms/s',
        stats: describe(got.idleMsPerSecond),
        note: 'cgroups of redis, origin, api and worker (healthchecks included); n = passes',
      },
    );
    notes.push(
      `**lever: ${lever.name}** (${lever.change}): all countries ${formatSpread(allRatios)} the reference's speed ` +
        `(${((allRatios.median / baselineAll - 1) * 100).toFixed(0)}% against as deployed); ` +
        `20 codes ${formatSpread(latencyRatios)} the reference's time ` +
        `(${((latencyRatios.median / baselineLatency - 1) * 100).toFixed(0)}% against as deployed); ` +
        `idle stack ${describe(got.idleMsPerSecond).median.toFixed(0)} ms of CPU per second.`,
    );
  }
  return { rows, targets: [], notes };
}
