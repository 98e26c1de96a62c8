// Entry point of `npm run bench`: starts Redis, nginx, the Flagship origin service, the
// Flagship API and workers, runs every scenario against the reference program, and
// writes bench/RESULTS.md and bench/results/latest.json. The only module reading
// process.env or exiting. Settings:
//   BENCH_QUICK=1          a smoke run: 3 runs, short intake, small sustained batch
//   BENCH_RUNS=n           measured runs per scenario (default 11)
//   BENCH_CPU_PROF=1       workers write V8 CPU profiles to bench/.work/profiles
//   BENCH_ONLY=a,b         only these scenarios (all, reference, sustained, intake, origin)
//   BENCH_DOWNLOADS_DIR    parent of both programs' downloads folders (default bench/.work/downloads)
//   BENCH_WORKER_NODE_ARGS, BENCH_API_NODE_ARGS   extra node flags, space-separated (experiments)
//   BENCH_WORKER_ENV       extra worker settings, space-separated KEY=VALUE (experiments)
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATA_DIR, generateFlags } from '@flagship/origin';
import { format, resolveConfig } from 'prettier';
import { createDownloadsClient } from './downloads-client.ts';
import { startFlagshipStack, startOriginService } from './flagship-stack.ts';
import { currentCommit, describeMachine } from './machine.ts';
import { METHOD } from './method.ts';
import { startNginx } from './nginx.ts';
import { startRedis } from './redis.ts';
import { renderResultsMarkdown, targetMet, type BenchResults } from './report.ts';
import { allCountriesScenario } from './scenarios/all-countries.ts';
import type { BenchContext, ScenarioResult } from './scenarios/context.ts';
import { intakeScenario } from './scenarios/intake.ts';
import { referenceCodesScenario } from './scenarios/reference-codes.ts';
import { sustainedScenario } from './scenarios/sustained.ts';
import { ensureSystemPackages } from './system-packages.ts';

const SCENARIOS = ['all', 'origin', 'reference', 'sustained', 'intake'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

interface Settings {
  quick: boolean;
  runs: number;
  warmups: number;
  latencyRuns: number;
  sustainedDownloads: number;
  sustainedRuns: number;
  intakeSeconds: number;
  intakeRuns: number;
  cpuProfile: boolean;
  workerNodeArgs: string[];
  apiNodeArgs: string[];
  workerEnv: Record<string, string>;
  only: ReadonlySet<ScenarioName>;
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((word) => word !== '');
}

function keyValues(name: string): Record<string, string> {
  const pairs = words(process.env[name]).map((word) => {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(word);
    if (match === null) throw new Error(`${name}: expected KEY=VALUE words, got "${word}"`);
    return [match[1] as string, match[2] as string] as const;
  });
  return Object.fromEntries(pairs);
}

function readSettings(): Settings {
  const quick = process.env.BENCH_QUICK === '1';
  const runs = positiveInteger('BENCH_RUNS', quick ? 3 : 11);
  const only = (process.env.BENCH_ONLY ?? SCENARIOS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  return {
    quick,
    runs,
    warmups: quick ? 1 : 2,
    latencyRuns: positiveInteger('BENCH_LATENCY_RUNS', quick ? 5 : 2 * runs - 1),
    sustainedDownloads: positiveInteger('BENCH_SUSTAINED_DOWNLOADS', quick ? 10 : 50),
    sustainedRuns: positiveInteger('BENCH_SUSTAINED_RUNS', runs),
    intakeSeconds: positiveInteger('BENCH_INTAKE_SECONDS', quick ? 2 : 10),
    intakeRuns: positiveInteger('BENCH_INTAKE_RUNS', runs),
    cpuProfile: process.env.BENCH_CPU_PROF === '1',
    workerNodeArgs: words(process.env.BENCH_WORKER_NODE_ARGS),
    apiNodeArgs: words(process.env.BENCH_API_NODE_ARGS),
    workerEnv: keyValues('BENCH_WORKER_ENV'),
    only: new Set(only as ScenarioName[]),
  };
}

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main(): Promise<void> {
  const startedAt = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const settings = readSettings();
  const redisImage = process.env.REDIS_IMAGE;
  if (redisImage === undefined || redisImage === '') {
    throw new Error('REDIS_IMAGE is not set: run `. ../shared/ci/env.sh` first (it exports offline/redis:7)');
  }
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const benchDir = path.join(repoRoot, 'bench');
  const work = path.join(benchDir, '.work');
  const referenceScript =
    process.env.BENCH_REFERENCE ?? path.resolve(repoRoot, '../shared/baselines/seed_flags_asyncio.py');
  const downloadsRoot = path.resolve(process.env.BENCH_DOWNLOADS_DIR || path.join(work, 'downloads'));
  const dirs = { flagship: path.join(downloadsRoot, 'flagship'), reference: path.join(downloadsRoot, 'reference') };
  const logDir = path.join(work, 'logs');
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  await mkdir(dirs.flagship, { recursive: true });
  await mkdir(dirs.reference, { recursive: true });

  const installed = await ensureSystemPackages(log);
  const data = await generateFlags({ outDir: DEFAULT_DATA_DIR });
  log(`data set: ${data.count} flags in ${DEFAULT_DATA_DIR}${data.rendered ? ' (rendered now)' : ''}`);

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const close of cleanups.reverse()) await close().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    cleanups.length = 0;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping everything`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const redis = await startRedis(redisImage);
    cleanups.push(() => redis.close());
    const nginx = await startNginx({ dataDir: DEFAULT_DATA_DIR, workDir: path.join(work, 'nginx') });
    cleanups.push(() => nginx.close());
    const origin = await startOriginService({ repoRoot, dataDir: DEFAULT_DATA_DIR, logDir });
    cleanups.push(() => origin.close());
    const profileDir = path.join(work, 'profiles');
    if (settings.cpuProfile) await mkdir(profileDir, { recursive: true });
    const stack = await startFlagshipStack({
      repoRoot,
      redisUrl: redis.url,
      downloadsDir: dirs.flagship,
      logDir,
      workerEnv: settings.workerEnv,
      workerNodeArgs: [
        ...(settings.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
        ...settings.workerNodeArgs,
      ],
      apiNodeArgs: [
        ...(settings.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
        ...settings.apiNodeArgs,
      ],
    });
    cleanups.push(() => stack.close());
    const client = createDownloadsClient(stack.apiUrl);
    cleanups.push(() => client.close());
    log(`redis ${redis.url}, nginx ${nginx.flagsUrl}, origin ${origin.flagsUrl}, api ${stack.apiUrl}`);

    const ctx: BenchContext = {
      runs: settings.runs,
      warmups: settings.warmups,
      redis,
      stack,
      client,
      referenceScript,
      dirs,
      log,
    };
    const nginxOrigin = { name: 'nginx', flagsUrl: nginx.flagsUrl, targeted: true };
    const results: ScenarioResult[] = [];
    const wanted = (name: ScenarioName) => settings.only.has(name);
    if (wanted('all')) results.push(await allCountriesScenario(ctx, nginxOrigin));
    if (wanted('origin')) {
      results.push(
        await allCountriesScenario(ctx, {
          name: 'Flagship origin service',
          flagsUrl: origin.flagsUrl,
          targeted: false,
        }),
      );
    }
    if (wanted('reference')) results.push(await referenceCodesScenario(ctx, nginxOrigin, settings.latencyRuns));
    if (wanted('sustained')) {
      results.push(
        await sustainedScenario(ctx, nginxOrigin, {
          downloads: settings.sustainedDownloads,
          runs: settings.sustainedRuns,
        }),
      );
    }
    if (wanted('intake')) {
      results.push(await intakeScenario(ctx, { seconds: settings.intakeSeconds, runs: settings.intakeRuns }));
    }

    const report: BenchResults = {
      date: new Date().toISOString(),
      commit: await currentCommit(repoRoot),
      durationSeconds: (performance.now() - startedAt) / 1000,
      machine: await describeMachine({
        downloadsDir: dirs.flagship,
        relativeTo: repoRoot,
        redisVersion: redis.version,
      }),
      settings: {
        'measured runs per scenario': settings.runs,
        'warm-up runs per scenario': settings.warmups,
        'runs of the 20-code latency scenario': settings.latencyRuns,
        'sustained: downloads per batch': settings.sustainedDownloads,
        'sustained: measured batches per worker count': settings.sustainedRuns,
        'intake: seconds per run': settings.intakeSeconds,
        'intake: measured runs per variant': settings.intakeRuns,
        'quick smoke run': settings.quick,
        'load average (1 min) at start and end, other users included': `${loadAtStart.toFixed(2)}, ${(os.loadavg()[0] ?? 0).toFixed(2)}`,
        'CPU profiles (API and workers)': settings.cpuProfile,
        'extra node flags of the workers': settings.workerNodeArgs.join(' ') || 'none',
        'extra node flags of the API': settings.apiNodeArgs.join(' ') || 'none',
        'worker settings beyond the defaults':
          Object.entries(settings.workerEnv)
            .map(([key, value]) => `${key}=${value}`)
            .join(' ') || 'none',
        'installed by the harness': installed.length > 0 ? installed.join(', ') : 'nothing (already there)',
      },
      targets: results.flatMap((r) => r.targets),
      rows: results.flatMap((r) => r.rows),
      notes: results.flatMap((r) => r.notes),
    };
    // A smoke run must not overwrite the committed table.
    const outDir = settings.quick ? path.join(work, 'quick') : benchDir;
    const jsonPath = path.join(outDir, 'results/latest.json');
    await mkdir(path.dirname(jsonPath), { recursive: true });
    await writeFile(jsonPath, JSON.stringify(report, null, 2) + '\n');
    const resultsPath = path.join(outDir, 'RESULTS.md');
    // Formatted as `npm run lint` expects (prettier --check covers Markdown).
    const prettierOptions = (await resolveConfig(resultsPath)) ?? {};
    await writeFile(
      resultsPath,
      await format(renderResultsMarkdown(report, METHOD), { ...prettierOptions, parser: 'markdown' }),
    );
    for (const target of report.targets) {
      log(
        `${targetMet(target) ? 'met    ' : 'MISSED '} ${target.scenario}: ${target.value.toFixed(2)} (${target.target})`,
      );
    }
    log(`wrote ${path.relative(repoRoot, path.join(outDir, 'RESULTS.md'))} and ${path.relative(repoRoot, jsonPath)}`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
