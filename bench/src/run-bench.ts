// Entry point of `npm run bench`: starts Redis, nginx, the Flagship origin service, the
// Flagship API and workers, runs every scenario against the reference program, and
// writes bench/RESULTS.md and bench/results/latest.json. The only module reading
// process.env or exiting. Settings:
//   BENCH_QUICK=1          a smoke run: 3 runs, short intake, small sustained batch
//   BENCH_RUNS=n           measured runs per scenario (default 11)
//   BENCH_CPU_PROF=1       workers write V8 CPU profiles to bench/.work/profiles
//   BENCH_ONLY=a,b         only these scenarios (all, reference, sustained, intake, origin, compose, celery;
//                          `levers` is never run unless named)
//   BENCH_DOWNLOADS_DIR    parent of both programs' downloads folders (default bench/.work/downloads)
//   BENCH_WORKER_NODE_ARGS, BENCH_API_NODE_ARGS   extra node flags, space-separated (experiments)
//   BENCH_WORKER_ENV       extra worker settings, space-separated KEY=VALUE (experiments)
//   BENCH_LEVERS=a,b       with BENCH_ONLY=levers: only these levers (names as in bench/src/scenarios/levers.ts)
//   BENCH_COMPOSE_SUSTAINED_RUNS   measured sustained batches per worker count on the compose stack
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_DATA_DIR, generateFlags } from '@flagship/origin';
import { Redis } from 'ioredis';
import { startCeleryPeer, type CeleryPeer } from './celery-peer.ts';
import { startComposeStack, type ComposeStack } from './compose-stack.ts';
import { format, resolveConfig } from 'prettier';
import { createDownloadsClient } from './downloads-client.ts';
import { startFlagshipStack, startOriginService } from './flagship-stack.ts';
import { currentCommit, describeMachine, mountOf } from './machine.ts';
import { METHOD } from './method.ts';
import { startNginx } from './nginx.ts';
import { startRedis } from './redis.ts';
import {
  renderResultsMarkdown,
  targetMet,
  type BenchResults,
  type Note,
  type ResultRow,
  type TargetCheck,
} from './report.ts';
import { mergeWithEarlier } from './results-merge.ts';
import { allCountriesScenario } from './scenarios/all-countries.ts';
import { composeScenario } from './scenarios/compose.ts';
import { leversScenario, selectLevers } from './scenarios/levers.ts';
import type { BenchContext, ScenarioResult } from './scenarios/context.ts';
import { intakeScenario } from './scenarios/intake.ts';
import { referenceCodesScenario } from './scenarios/reference-codes.ts';
import { sustainedScenario } from './scenarios/sustained.ts';
import { celeryVersions, ensureSystemPackages } from './system-packages.ts';
import { positiveIntegerSetting } from './env-settings.ts';

const run = promisify(execFile);
const SCENARIOS = ['all', 'origin', 'reference', 'sustained', 'intake', 'compose', 'celery', 'levers'] as const;
/** What `npm run bench` runs when BENCH_ONLY is not set: the lever experiments only on demand. */
const DEFAULT_SCENARIOS = SCENARIOS.filter((name) => name !== 'levers');
type ScenarioName = (typeof SCENARIOS)[number];

/** A scenario's results with the scenario that measured each entry. */
interface SourcedResult {
  rows: ResultRow[];
  targets: TargetCheck[];
  notes: Note[];
}

interface Settings {
  quick: boolean;
  runs: number;
  warmups: number;
  latencyRuns: number;
  sustainedDownloads: number;
  sustainedRuns: number;
  intakeSeconds: number;
  intakeRuns: number;
  composeSustainedRuns: number;
  profileDownloads: number;
  idleSeconds: number;
  leverPasses: number;
  cpuProfile: boolean;
  workerNodeArgs: string[];
  apiNodeArgs: string[];
  workerEnv: Record<string, string>;
  only: ReadonlySet<ScenarioName>;
  /** BENCH_ONLY set and not a smoke run: the other scenarios' rows are kept from the last results. */
  partial: boolean;
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
  const runs = positiveIntegerSetting('BENCH_RUNS', quick ? 3 : 11);
  const only = (process.env.BENCH_ONLY ?? DEFAULT_SCENARIOS.join(','))
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
    latencyRuns: positiveIntegerSetting('BENCH_LATENCY_RUNS', quick ? 5 : 2 * runs - 1),
    sustainedDownloads: positiveIntegerSetting('BENCH_SUSTAINED_DOWNLOADS', quick ? 10 : 50),
    sustainedRuns: positiveIntegerSetting('BENCH_SUSTAINED_RUNS', runs),
    intakeSeconds: positiveIntegerSetting('BENCH_INTAKE_SECONDS', quick ? 2 : 10),
    intakeRuns: positiveIntegerSetting('BENCH_INTAKE_RUNS', runs),
    composeSustainedRuns: positiveIntegerSetting('BENCH_COMPOSE_SUSTAINED_RUNS', quick ? 2 : 7),
    profileDownloads: quick ? 3 : 10,
    idleSeconds: quick ? 4 : 10,
    leverPasses: positiveIntegerSetting('BENCH_LEVER_PASSES', quick ? 1 : 2),
    cpuProfile: process.env.BENCH_CPU_PROF === '1',
    workerNodeArgs: words(process.env.BENCH_WORKER_NODE_ARGS),
    apiNodeArgs: words(process.env.BENCH_API_NODE_ARGS),
    workerEnv: keyValues('BENCH_WORKER_ENV'),
    only: new Set(only as ScenarioName[]),
    partial: !quick && (process.env.BENCH_ONLY ?? '') !== '',
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

  const wanted = (name: ScenarioName) => settings.only.has(name);
  const wantsDocker = wanted('compose') || wanted('celery') || wanted('levers');
  const installed = await ensureSystemPackages(log, { celery: wanted('celery') });
  const data = await generateFlags({ outDir: DEFAULT_DATA_DIR });
  log(`data set: ${data.count} flags in ${DEFAULT_DATA_DIR}${data.rendered ? ' (rendered now)' : ''}`);

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const close of cleanups.reverse()) await close().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    cleanups.length = 0;
  };
  // Measurements still running when a signal stops everything would time a stack going
  // down: nothing is written after one.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    log(`${signal}: stopping everything`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const redis = await startRedis(redisImage);
    cleanups.push(() => redis.close());
    const nginx = await startNginx({
      dataDir: DEFAULT_DATA_DIR,
      workDir: path.join(work, 'nginx'),
      ...(wantsDocker ? { containerAddress: await dockerBridgeAddress() } : {}),
    });
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
    const results: SourcedResult[] = [];
    /** Sources of this run's rows, for a partial run's merge with the earlier results (results-merge.ts). */
    const ran = new Set<string>();
    const tagged = (source: string, result: ScenarioResult): SourcedResult => {
      ran.add(source);
      return {
        rows: result.rows.map((row) => ({ ...row, source })),
        targets: result.targets.map((target) => ({ ...target, source })),
        notes: result.notes.map((text) => ({ source, text })),
      };
    };
    if (wanted('all')) results.push(tagged('all', await allCountriesScenario(ctx, nginxOrigin)));
    if (wanted('origin')) {
      results.push(
        tagged(
          'origin',
          await allCountriesScenario(ctx, {
            name: 'Flagship origin service',
            flagsUrl: origin.flagsUrl,
            targeted: false,
          }),
        ),
      );
    }
    if (wanted('reference'))
      results.push(tagged('reference', await referenceCodesScenario(ctx, nginxOrigin, settings.latencyRuns)));
    if (wanted('sustained')) {
      results.push(
        tagged(
          'sustained',
          await sustainedScenario(ctx, nginxOrigin, {
            downloads: settings.sustainedDownloads,
            runs: settings.sustainedRuns,
          }),
        ),
      );
    }
    if (wanted('intake')) {
      results.push(
        tagged('intake', await intakeScenario(ctx, { seconds: settings.intakeSeconds, runs: settings.intakeRuns })),
      );
    }
    // The compose stack comes up only now: its idle healthchecks take CPU from whatever runs beside it.
    const composeLines: string[] = [];
    if (wantsDocker) {
      const containerFlagsUrl = nginx.containerFlagsUrl as string;
      const compose = await startComposeStack({
        repoRoot,
        project: `flagship-bench-${process.pid}`,
        originUrl: containerFlagsUrl,
        logDir,
        log,
      });
      cleanups.push(() => compose.down());
      const composeRedis = new Redis(compose.redisUrl, {
        connectionName: 'flagship-bench-admin',
        maxRetriesPerRequest: 1,
      });
      cleanups.push(() => composeRedis.quit().catch(() => composeRedis.disconnect()));
      let celery: CeleryPeer | undefined;
      if (wanted('celery')) {
        // Same Redis as Flagship, its own database number: broker and result backend.
        const peer = await startCeleryPeer({
          peerDir: path.join(benchDir, 'peers/celery'),
          brokerUrl: `${compose.redisUrl}/1`,
          logDir,
        });
        celery = peer;
        cleanups.push(() => peer.close());
      }
      log(
        `compose: api ${compose.apiUrl()} (published) / ${compose.apiDirectUrl()}, worker origin ${containerFlagsUrl}`,
      );
      if (wanted('compose') || wanted('celery')) {
        // Without `compose` the scenario measures only what the Celery comparison needs.
        if (wanted('compose') && wanted('celery')) ran.add('celery');
        results.push(
          tagged(
            wanted('compose') ? 'compose' : 'celery',
            await composeScenario({
              base: ctx,
              compose,
              nginx,
              composeRedis,
              celery,
              repoRoot,
              workDir: work,
              settings: {
                full: wanted('compose'),
                latencyRuns: settings.latencyRuns,
                sustainedDownloads: settings.sustainedDownloads,
                sustainedRuns: settings.composeSustainedRuns,
                profileDownloads: settings.profileDownloads,
                idleSeconds: settings.idleSeconds,
              },
            }),
          ),
        );
      }
      if (wanted('levers')) {
        results.push(
          tagged(
            'levers',
            await leversScenario({
              base: ctx,
              compose,
              nginx,
              repoRoot,

              passes: settings.leverPasses,
              latencyRuns: settings.latencyRuns,
              levers: selectLevers(process.env.BENCH_LEVERS),
            }),
          ),
        );
      }
      composeLines.push(...(await describeCompose(compose, celery !== undefined)));
    }

    const thisRun: BenchResults = {
      date: new Date().toISOString(),
      commit: await currentCommit(repoRoot),
      durationSeconds: (performance.now() - startedAt) / 1000,
      machine: await describeMachine({
        downloadsDir: dirs.flagship,
        relativeTo: repoRoot,
        redisVersion: redis.version,
        more: composeLines,
      }),
      settings: {
        'measured runs per scenario': settings.runs,
        'warm-up runs per scenario': settings.warmups,
        'runs of the 20-code latency scenario': settings.latencyRuns,
        'sustained: downloads per batch': settings.sustainedDownloads,
        'sustained: measured batches per worker count': settings.sustainedRuns,
        'intake: seconds per run': settings.intakeSeconds,
        'intake: measured runs per variant': settings.intakeRuns,
        'compose and Celery: measured sustained batches per worker count': settings.composeSustainedRuns,
        'compose: all-countries downloads in the worker CPU profile': settings.profileDownloads,
        'scenarios run': [...settings.only].join(', '),
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
    if (interrupted) throw new Error('stopped by a signal: no results written');
    const report = settings.partial ? mergeWithEarlier(thisRun, await readEarlier(jsonPath, log), ran) : thisRun;
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

/** The results a partial run joins (results-merge.ts): the last results/latest.json, or none. */
async function readEarlier(jsonPath: string, log: (line: string) => void): Promise<BenchResults | undefined> {
  try {
    return JSON.parse(await readFile(jsonPath, 'utf8')) as BenchResults;
  } catch (error) {
    log(`no earlier results to keep (${(error as Error).message}): RESULTS.md will hold this run's rows only`);
    return undefined;
  }
}

/** The Docker bridge's address on this host (docker0): where containers reach the host's nginx. */
async function dockerBridgeAddress(): Promise<string> {
  const docker0 = os.networkInterfaces().docker0?.find((address) => address.family === 'IPv4');
  if (docker0 !== undefined) return docker0.address;
  const { stdout } = await run('docker', [
    'network',
    'inspect',
    'bridge',
    '-f',
    '{{range .IPAM.Config}}{{.Gateway}}{{end}}',
  ]);
  if (stdout.trim() === '') throw new Error('no address for the Docker bridge (docker0)');
  return stdout.trim();
}

/** Machine lines for the compose stack: Docker's versions, the volume's file system, the peer's versions. */
async function describeCompose(compose: ComposeStack, celery: boolean): Promise<string[]> {
  const version = async (args: string[]) => (await run('docker', args)).stdout.trim();
  const engine = await version(['version', '-f', '{{.Server.Version}}']);
  const composeVersion = await version(['compose', 'version', '--short']);
  const proxy = (await compose.dockerProxyPid()) !== undefined;
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const mount = mountOf(mounts, compose.downloadsDir);
  const sameFs = (await stat(compose.downloadsDir)).dev === (await stat(compose.peersDir)).dev;
  return [
    `Docker Engine ${engine}, Compose ${composeVersion}; published ports through ${proxy ? 'docker-proxy (userland-proxy on, the default)' : 'iptables only (no docker-proxy seen)'}`,
    `Compose downloads volume: ${mount === undefined ? 'unknown' : `${mount.type} mounted at ${mount.point}`}; ` +
      `the reference's and the Celery peer's folders are in a second volume, ${sameFs ? 'on the same file system' : 'on ANOTHER file system'}`,
    ...(celery
      ? [`Celery peer: ${await celeryVersions()}, ${(await run('/usr/bin/python3', ['--version'])).stdout.trim()}`]
      : []),
  ];
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
