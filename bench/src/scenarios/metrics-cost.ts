// What metrics cost: all-countries throughput (250 flags, one download, POST accepted →
// completed, files on disk) with METRICS_ENABLED=true against false, on the API and the
// worker alike, tracing off in both. Standalone (`npm run bench:metrics-cost -w bench`),
// beside the main benchmark: nginx and the data set as run-bench.ts sets them up, and
// two Flagship stacks running side by side, each an API and one worker on its own Redis
// container and downloads folder: one with metrics, one without. Downloads alternate
// between them one by one (the order flips every pair), so the two of a pair run within
// a second of each other: on a shared machine whose load drifts from minute to minute,
// that pairing is what makes a 3% difference visible. The run is cut into blocks; each
// block starts both stacks afresh and swaps which of the two slots (Redis container,
// folder) has metrics, so a difference between the slots cancels out. Each download is
// cold (its folder emptied first). The cost is 1 − the median of the pairs' ratios (on ÷
// off flags/s). Beside it, the CPU time the API and the worker spent per download (from
// /proc, summed over all pairs), which the machine's load disturbs far less than wall
// time. Prints the result and writes bench/results/metrics-cost.json. Settings:
//   METRICS_COST_PAIRS     measured pairs of downloads (default 200)
//   METRICS_COST_BLOCKS    blocks they are cut into (default 4), each after 3 warm-up pairs
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COUNTRY_CODES } from '@flagship/common';
import { DEFAULT_DATA_DIR, generateFlags } from '@flagship/origin';
import { metricSample as sample } from '@flagship/runtime/metrics';
import { createDownloadsClient, type DownloadsClient } from '../downloads-client.ts';
import { emptyDir } from '../files.ts';
import { startFlagshipStack, type FlagshipStack } from '../flagship-stack.ts';
import { startNginx } from '../nginx.ts';
import { startRedis, type BenchRedis } from '../redis.ts';
import { describe, pairedRatios, percentile, type SampleStats } from '../stats.ts';
import { NGINX } from '../system-packages.ts';
import { positiveIntegerSetting } from '../env-settings.ts';

export type Arm = 'on' | 'off';

export interface MetricsCostPair {
  order: Arm[];
  flagsPerSecond: Record<Arm, number>;
  /** CPU seconds of the arm's API and worker processes during its download. */
  cpuSeconds: Record<Arm, number>;
}

export interface MetricsCostSummary {
  pairs: number;
  on: SampleStats;
  off: SampleStats;
  /** Metrics-on ÷ metrics-off flags/s, pair by pair. */
  ratio: SampleStats;
  /** The middle half of the pairs' ratios (25th and 75th percentiles, nearest rank): the spread. */
  ratioQuartiles: [number, number];
  /** 1 − median ratio, as a percentage: the throughput metrics cost. */
  costPercent: number;
  /** API + worker CPU milliseconds per download, over all pairs. */
  cpuMsPerDownload: Record<Arm, number>;
  /** on ÷ off CPU per download − 1, as a percentage. */
  cpuCostPercent: number;
}

export function summarizeMetricsCost(pairs: readonly MetricsCostPair[]): MetricsCostSummary {
  const on = pairs.map((pair) => pair.flagsPerSecond.on);
  const off = pairs.map((pair) => pair.flagsPerSecond.off);
  const ratios = pairedRatios(on, off);
  const ratio = describe(ratios);
  const sortedRatios = [...ratios].sort((a, b) => a - b);
  const cpuMs = (arm: Arm) => (pairs.reduce((sum, pair) => sum + pair.cpuSeconds[arm], 0) * 1000) / pairs.length;
  const cpuMsPerDownload = { on: cpuMs('on'), off: cpuMs('off') };
  return {
    pairs: pairs.length,
    on: describe(on),
    off: describe(off),
    ratio,
    ratioQuartiles: [percentile(sortedRatios, 25), percentile(sortedRatios, 75)],
    costPercent: (1 - ratio.median) * 100,
    cpuMsPerDownload,
    cpuCostPercent: (cpuMsPerDownload.on / cpuMsPerDownload.off - 1) * 100,
  };
}

/** User + system CPU seconds of a process so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function parseProcStatCpuSeconds(stat: string): number {
  // Fields after the command name (which may hold spaces) start at the state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const log = (line: string) => console.log(`[metrics-cost ${new Date().toISOString().slice(11, 19)}] ${line}`);

const WARM_UP_PAIRS = 3;

interface ArmStack {
  arm: Arm;
  downloadsDir: string;
  stack: FlagshipStack;
  client: DownloadsClient;
  close(): Promise<void>;
}

/** A slot: the Redis and folder one of the two stacks runs on, whichever arm it is. */
interface Slot {
  name: string;
  redis: BenchRedis;
  downloadsDir: string;
  logDir: string;
}

/** An API and one worker with METRICS_ENABLED for `arm`, in `slot`. */
async function startArm(arm: Arm, slot: Slot, options: { repoRoot: string; flagsUrl: string }): Promise<ArmStack> {
  await slot.redis.flushAll();
  const env = { METRICS_ENABLED: String(arm === 'on') };
  const stack = await startFlagshipStack({
    repoRoot: options.repoRoot,
    redisUrl: slot.redis.url,
    downloadsDir: slot.downloadsDir,
    logDir: slot.logDir,
    apiEnv: env,
    workerEnv: env,
  });
  await stack.setWorkers(1, options.flagsUrl);
  const client = createDownloadsClient(stack.apiUrl);
  return {
    arm,
    downloadsDir: slot.downloadsDir,
    stack,
    client,
    async close() {
      await client.close();
      await stack.close();
    },
  };
}

async function cpuSecondsOf(arm: ArmStack): Promise<number> {
  const pids = [arm.stack.apiPid, ...arm.stack.workers().map((worker) => worker.pid)];
  const stats = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8')));
  return stats.reduce((sum, stat) => sum + parseProcStatCpuSeconds(stat), 0);
}

/** One cold download of every country: flags/s and the CPU its API and worker spent. */
async function downloadAll(arm: ArmStack): Promise<{ flagsPerSecond: number; cpuSeconds: number }> {
  await emptyDir(arm.downloadsDir);
  const cpuBefore = await cpuSecondsOf(arm);
  const done = await arm.client.download({ all: true });
  const cpuSeconds = (await cpuSecondsOf(arm)) - cpuBefore;
  if (done.saved !== COUNTRY_CODES.length) {
    throw new Error(`${arm.arm}: saved ${done.saved} of ${COUNTRY_CODES.length}`);
  }
  return { flagsPerSecond: done.saved / done.seconds, cpuSeconds };
}

/** The metrics-on stack really measured: every download submitted, every flag counted. */
async function checkMeasured(arm: ArmStack, downloads: number): Promise<void> {
  const api = await (await fetch(`${arm.stack.apiUrl}/metrics`)).text();
  const workerHealth = arm.stack.workers()[0]?.readyUrl ?? '';
  const worker = await (await fetch(workerHealth.replace(/\/healthz$/, '/metrics'))).text();
  const submitted = sample(api, 'flagship_downloads_submitted_total');
  const flags = sample(worker, 'flagship_flags_total{outcome="OK"}');
  if (submitted !== downloads || flags !== downloads * COUNTRY_CODES.length) {
    throw new Error(`metrics on, but counted ${submitted} downloads and ${flags} flags for ${downloads} downloads`);
  }
}

/** The metrics-off stack serves no metrics (METRICS_ENABLED=false was read). */
async function checkNotMeasured(arm: ArmStack): Promise<void> {
  const response = await fetch(`${arm.stack.apiUrl}/metrics`);
  await response.body?.cancel();
  if (response.status !== 404) throw new Error(`metrics off, but the API answers /metrics with ${response.status}`);
}

async function main(): Promise<void> {
  const pairs = positiveIntegerSetting('METRICS_COST_PAIRS', 200);
  const blocks = positiveIntegerSetting('METRICS_COST_BLOCKS', 4);
  const redisImage = process.env.REDIS_IMAGE;
  if (!redisImage) throw new Error('REDIS_IMAGE is not set: run `. ../shared/ci/env.sh` first');
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const work = path.join(repoRoot, 'bench/.work');
  await rm(path.join(work, 'logs-metrics-cost'), { recursive: true, force: true });
  // nginx only (no reference program here): `npm run bench` installs it on a fresh machine.
  await access(NGINX).catch(() => {
    throw new Error(`${NGINX} is missing: run \`npm run bench\` once (it installs nginx) or apt-get install nginx`);
  });
  await generateFlags({ outDir: DEFAULT_DATA_DIR });

  const loadAtStart = os.loadavg()[0] ?? 0;
  const nginx = await startNginx({ dataDir: DEFAULT_DATA_DIR, workDir: path.join(work, 'nginx-metrics-cost') });
  const slots: Slot[] = [];
  try {
    for (const name of ['a', 'b']) {
      const slot = {
        name,
        redis: await startRedis(redisImage),
        downloadsDir: path.join(work, `downloads/metrics-cost-${name}`),
        logDir: path.join(work, `logs-metrics-cost/${name}`),
      };
      slots.push(slot);
      await mkdir(slot.downloadsDir, { recursive: true });
      await mkdir(slot.logDir, { recursive: true });
    }
    const measured: MetricsCostPair[] = [];
    for (let block = 0; block < blocks; block++) {
      const [onSlot, offSlot] = (block % 2 === 0 ? slots : [...slots].reverse()) as [Slot, Slot];
      const on = await startArm('on', onSlot, { repoRoot, flagsUrl: nginx.flagsUrl });
      const off = await startArm('off', offSlot, { repoRoot, flagsUrl: nginx.flagsUrl }).catch(async (error) => {
        await on.close();
        throw error;
      });
      try {
        const blockPairs = Math.ceil(pairs / blocks);
        for (let pair = 0; pair < WARM_UP_PAIRS + blockPairs; pair++) {
          const order: [ArmStack, ArmStack] = pair % 2 === 0 ? [on, off] : [off, on];
          const flagsPerSecond = { on: 0, off: 0 };
          const cpuSeconds = { on: 0, off: 0 };
          for (const arm of order) {
            const run = await downloadAll(arm);
            flagsPerSecond[arm.arm] = run.flagsPerSecond;
            cpuSeconds[arm.arm] = run.cpuSeconds;
          }
          if (pair >= WARM_UP_PAIRS) measured.push({ order: order.map((arm) => arm.arm), flagsPerSecond, cpuSeconds });
        }
        await checkMeasured(on, WARM_UP_PAIRS + blockPairs);
        await checkNotMeasured(off);
        const done = summarizeMetricsCost(measured);
        log(
          `block ${block + 1}/${blocks} (metrics on in slot ${onSlot.name}): ${done.pairs} pairs so far, median ratio ${done.ratio.median.toFixed(3)}`,
        );
      } finally {
        await on.close();
        await off.close();
      }
    }
    const summary = summarizeMetricsCost(measured);
    const loadAtEnd = os.loadavg()[0] ?? 0;
    log(
      `metrics on ÷ off, all countries flags/s: median ${summary.ratio.median.toFixed(3)} ` +
        `(middle half ${summary.ratioQuartiles[0].toFixed(3)}–${summary.ratioQuartiles[1].toFixed(3)}, ` +
        `min ${summary.ratio.min.toFixed(3)}, max ${summary.ratio.max.toFixed(3)}, ${summary.pairs} pairs in ${blocks} blocks); ` +
        `medians ${summary.on.median.toFixed(0)} vs ${summary.off.median.toFixed(0)} flags/s; ` +
        `cost ${summary.costPercent.toFixed(1)}%; API + worker CPU per download ${summary.cpuMsPerDownload.on.toFixed(1)} vs ` +
        `${summary.cpuMsPerDownload.off.toFixed(1)} ms (${summary.cpuCostPercent.toFixed(1)}%); ` +
        `load average ${loadAtStart.toFixed(2)} → ${loadAtEnd.toFixed(2)}`,
    );
    const results = path.join(repoRoot, 'bench/results');
    await mkdir(results, { recursive: true });
    await writeFile(
      path.join(results, 'metrics-cost.json'),
      JSON.stringify(
        { date: new Date().toISOString(), blocks, loadAtStart, loadAtEnd, summary, pairs: measured },
        null,
        2,
      ) + '\n',
    );
  } finally {
    for (const slot of slots) await slot.redis.close();
    await nginx.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
