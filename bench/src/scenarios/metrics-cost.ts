// What metrics cost: all-countries throughput (250 flags, one download, POST accepted →
// completed, files on disk) with METRICS_ENABLED=true against false, on the API and the
// worker alike, tracing off in both. Standalone (`npm run bench:metrics-cost -w bench`),
// beside the main benchmark: Redis, nginx and the data set as run-bench.ts sets them up,
// then rounds of two arms. Each arm starts a fresh API and worker with its setting,
// warms up, and times `METRICS_COST_RUNS` downloads (cold: the folder emptied before
// each); the round's ratio is metrics-on flags/s ÷ metrics-off flags/s of the arms'
// medians. The order of the arms flips every round, so neither always runs first on a
// machine whose load drifts. Prints the paired ratios and writes
// bench/.work/metrics-cost.json. Settings:
//   METRICS_COST_ROUNDS   measured rounds (default 9), after one warm-up round
//   METRICS_COST_RUNS     timed downloads per arm and round (default 5)
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COUNTRY_CODES } from '@flagship/common';
import { DEFAULT_DATA_DIR, generateFlags } from '@flagship/origin';
import { metricSample as sample } from '@flagship/runtime/metrics';
import { createDownloadsClient } from '../downloads-client.ts';
import { emptyDir } from '../files.ts';
import { startFlagshipStack } from '../flagship-stack.ts';
import { startNginx } from '../nginx.ts';
import { startRedis, type BenchRedis } from '../redis.ts';
import { describe, median, pairedRatios, type SampleStats } from '../stats.ts';
import { ensureSystemPackages } from '../system-packages.ts';

export type Arm = 'on' | 'off';

export interface MetricsCostRound {
  order: Arm[];
  /** Median flags/s of each arm's timed downloads. */
  flagsPerSecond: Record<Arm, number>;
}

export interface MetricsCostSummary {
  rounds: number;
  on: SampleStats;
  off: SampleStats;
  /** Metrics-on ÷ metrics-off flags/s, round by round. */
  ratio: SampleStats;
  /** 1 − median ratio, as a percentage: the throughput metrics cost. */
  costPercent: number;
}

export function summarizeMetricsCost(rounds: readonly MetricsCostRound[]): MetricsCostSummary {
  const on = rounds.map((round) => round.flagsPerSecond.on);
  const off = rounds.map((round) => round.flagsPerSecond.off);
  const ratio = describe(pairedRatios(on, off));
  return { rounds: rounds.length, on: describe(on), off: describe(off), ratio, costPercent: (1 - ratio.median) * 100 };
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const log = (line: string) => console.log(`[metrics-cost ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface ArmContext {
  repoRoot: string;
  redis: BenchRedis;
  flagsUrl: string;
  downloadsDir: string;
  logDir: string;
  runs: number;
}

/** A fresh API and worker with METRICS_ENABLED for `arm`: median flags/s of `runs` downloads after one warm-up. */
async function runArm(ctx: ArmContext, arm: Arm): Promise<number> {
  await ctx.redis.flushAll();
  const env = { METRICS_ENABLED: String(arm === 'on') };
  const stack = await startFlagshipStack({
    repoRoot: ctx.repoRoot,
    redisUrl: ctx.redis.url,
    downloadsDir: ctx.downloadsDir,
    logDir: ctx.logDir,
    apiEnv: env,
    workerEnv: env,
  });
  const client = createDownloadsClient(stack.apiUrl);
  try {
    await stack.setWorkers(1, ctx.flagsUrl);
    const flagsPerSecond: number[] = [];
    for (let run = 0; run <= ctx.runs; run++) {
      await emptyDir(ctx.downloadsDir);
      const done = await client.download({ all: true });
      if (done.saved !== COUNTRY_CODES.length) throw new Error(`saved ${done.saved} of ${COUNTRY_CODES.length}`);
      if (run > 0) flagsPerSecond.push(done.saved / done.seconds);
    }
    if (arm === 'on') await checkMeasured(stack.apiUrl, stack.workers()[0]?.readyUrl, ctx.runs + 1);
    return median([...flagsPerSecond].sort((a, b) => a - b));
  } finally {
    await client.close();
    await stack.close();
  }
}

/** The metrics-on arm really measured: every download submitted, every flag counted. */
async function checkMeasured(apiUrl: string, workerHealthUrl: string | undefined, downloads: number): Promise<void> {
  const api = await (await fetch(`${apiUrl}/metrics`)).text();
  const worker = await (await fetch(workerHealthUrl!.replace(/\/healthz$/, '/metrics'))).text();
  const submitted = sample(api, 'flagship_downloads_submitted_total');
  const flags = sample(worker, 'flagship_flags_total{outcome="OK"}');
  if (submitted !== downloads || flags !== downloads * COUNTRY_CODES.length) {
    throw new Error(`metrics on, but counted ${submitted} downloads and ${flags} flags for ${downloads} downloads`);
  }
}

async function main(): Promise<void> {
  const rounds = positiveInteger('METRICS_COST_ROUNDS', 9);
  const runs = positiveInteger('METRICS_COST_RUNS', 5);
  const redisImage = process.env.REDIS_IMAGE;
  if (!redisImage) throw new Error('REDIS_IMAGE is not set: run `. ../shared/ci/env.sh` first');
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const work = path.join(repoRoot, 'bench/.work');
  const logDir = path.join(work, 'logs-metrics-cost');
  const downloadsDir = path.join(work, 'downloads/metrics-cost');
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  await mkdir(downloadsDir, { recursive: true });
  await ensureSystemPackages(log);
  await generateFlags({ outDir: DEFAULT_DATA_DIR });

  const loadAtStart = os.loadavg()[0] ?? 0;
  const redis = await startRedis(redisImage);
  const nginx = await startNginx({ dataDir: DEFAULT_DATA_DIR, workDir: path.join(work, 'nginx-metrics-cost') });
  try {
    const ctx: ArmContext = { repoRoot, redis, flagsUrl: nginx.flagsUrl, downloadsDir, logDir, runs };
    const measured: MetricsCostRound[] = [];
    for (let round = 0; round <= rounds; round++) {
      const order: Arm[] = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      const flagsPerSecond = { on: 0, off: 0 };
      for (const arm of order) flagsPerSecond[arm] = await runArm(ctx, arm);
      const label = round === 0 ? 'warm-up' : `round ${round}/${rounds}`;
      log(
        `${label} (${order.join(' then ')}): on ${flagsPerSecond.on.toFixed(0)} flags/s, off ${flagsPerSecond.off.toFixed(0)} flags/s, ratio ${(flagsPerSecond.on / flagsPerSecond.off).toFixed(3)}`,
      );
      if (round > 0) measured.push({ order, flagsPerSecond });
    }
    const summary = summarizeMetricsCost(measured);
    const loadAtEnd = os.loadavg()[0] ?? 0;
    log(
      `metrics on ÷ off, all countries flags/s: median ${summary.ratio.median.toFixed(3)} ` +
        `(min ${summary.ratio.min.toFixed(3)}, max ${summary.ratio.max.toFixed(3)}, ${summary.rounds} paired rounds × ${runs} downloads); ` +
        `medians ${summary.on.median.toFixed(0)} vs ${summary.off.median.toFixed(0)} flags/s; cost ${summary.costPercent.toFixed(1)}%; ` +
        `load average ${loadAtStart.toFixed(2)} → ${loadAtEnd.toFixed(2)}`,
    );
    await writeFile(
      path.join(work, 'metrics-cost.json'),
      JSON.stringify(
        { date: new Date().toISOString(), runsPerArm: runs, loadAtStart, loadAtEnd, summary, rounds: measured },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await nginx.close();
    await redis.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
