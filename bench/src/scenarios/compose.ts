// Flagship as deployed (the real docker-compose.yml, 1 and 2 workers) against the
// reference program, the same Flagship as host processes, and the Celery peer; every
// comparison paired run by run (scenarios/rotation.ts). The worker downloads from the
// bench's nginx at the Docker bridge's address; the client times POST → `completed` over
// the API's published port, as users reach it. Cold runs empty the downloads volume (and
// the other programs' folders, on the same file system) before every run; warm runs
// leave the files there. Besides the timings: where one download's time goes (BullMQ's
// job timestamps and nginx's request log on one clock), CPU per download of each process
// (worker, API, Redis, docker-proxy, nginx; the same for the host processes), a CPU
// profile of the worker in its container, and what the idle stack costs.
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COUNTRY_CODES, REFERENCE_CODES } from '@flagship/common';
import type { Redis } from 'ioredis';
import type { CeleryPeer } from '../celery-peer.ts';
import type { ComposeStack, StackVariant } from '../compose-stack.ts';
import { describeProfile, summarizeProfile, type CpuProfile } from '../cpu-profile.ts';
import { createDownloadsClient } from '../downloads-client.ts';
import { emptyDir, listFlags } from '../files.ts';
import { imageNodeArgs } from '../flagship-stack.ts';
import type { LoggedRequest, StaticOrigin } from '../nginx.ts';
import { containerCpuNs, findProcesses, processCpuNs, processTable } from '../proc.ts';
import { runReference } from '../reference.ts';
import { formatSpread, type ResultRow, type TargetCheck } from '../report.ts';
import { parseVmHwm } from '../service-process.ts';
import { describe, pairedRatios, type SampleStats } from '../stats.ts';
import type { BenchContext, ScenarioResult } from './context.ts';
import { rotate } from './rotation.ts';
import { readJobTimes, timeline, TIMELINE_STEPS, type Timeline } from './timeline.ts';

const MiB = 1024 * 1024;
const ALL_TARGET = 3;
const LATENCY_TARGET = 0.8;
const CELERY_TARGET = 2;
const MEMORY_LIMIT_MB = 200;
const HOST_TOLERANCE = 1.25;

export interface ComposeSettings {
  /** Everything (BENCH_ONLY has `compose`); otherwise only what the Celery comparison needs. */
  full: boolean;
  latencyRuns: number;
  sustainedDownloads: number;
  sustainedRuns: number;
  /** All-countries downloads while the worker writes a CPU profile. */
  profileDownloads: number;
  /** Length of the idle-cost measurement. */
  idleSeconds: number;
}

export interface ComposeContext {
  base: BenchContext;
  compose: ComposeStack;
  nginx: StaticOrigin;
  /** Admin connection to the compose stack's Redis (job timestamps). */
  composeRedis: Redis;
  celery: CeleryPeer | undefined;
  repoRoot: string;
  /** bench/.work */
  workDir: string;
  settings: ComposeSettings;
}

type Kind = 'compose' | 'direct' | 'host' | 'reference' | 'celery';

interface RunResult {
  /** What the ratios use: the client's submit → result, or the reference's printed elapsed. */
  seconds: number;
  /** The reference's process wall time. */
  wallSeconds?: number;
  timeline?: Timeline;
  /** CPU milliseconds per process during the run. */
  cpuMs?: Record<string, number>;
}

interface CpuProbe {
  name: string;
  /** Nanoseconds on CPU so far. */
  read(): Promise<number>;
}

async function sumCpu(pids: readonly number[]): Promise<number> {
  const times = await Promise.all(pids.map(processCpuNs));
  return times.reduce((sum, ns) => sum + ns, 0);
}

async function cpuDuring<T>(probes: readonly CpuProbe[], work: () => Promise<T>) {
  const before = await Promise.all(probes.map((probe) => probe.read()));
  const result = await work();
  const after = await Promise.all(probes.map((probe) => probe.read()));
  const cpuMs = Object.fromEntries(probes.map((probe, i) => [probe.name, ((after[i] ?? 0) - (before[i] ?? 0)) / 1e6]));
  return { result, cpuMs };
}

const SUBJECT: Record<Kind, (workers: number) => string> = {
  compose: (w) => `Flagship compose (${w} worker${w === 1 ? '' : 's'}), published port`,
  direct: (w) => `Flagship compose (${w} worker${w === 1 ? '' : 's'}), API at the container's address`,
  host: (w) => `Flagship host processes (API + ${w} worker${w === 1 ? '' : 's'})`,
  reference: () => 'reference (asyncio)',
  celery: (w) => `Celery peer (${w} prefork worker${w === 1 ? '' : 's'})`,
};

/**
 * A healthcheck probe of the compose file: today `bash -c <script> http-ok PORT PATH` (an
 * HTTP request over /dev/tcp); before, `node -e "fetch('http://127.0.0.1:…/healthz')…"`.
 */
export function isHealthcheckProbe(words: readonly string[]): boolean {
  const bashProbe = words[0] === 'bash' && words[1] === '-c' && words[3] === 'http-ok' && /^\d+$/.test(words[4] ?? '');
  const nodeProbe =
    words[0] === 'node' &&
    words[1] === '-e' &&
    /fetch\('http:\/\/127\.0\.0\.1:\d+\/(healthz|readyz)'\)/.test(words[2] ?? '');
  return bashProbe || nodeProbe;
}

/**
 * Counts, every 2 s, the healthcheck probes running in this stack's containers (children of
 * their containerd shims). Docker 20.10 does not kill a probe that outlives its timeout
 * (moby/moby#43737): on a loaded machine they pile up.
 */
function healthcheckSampler(containerIds: () => ReadonlySet<string>) {
  let max = 0;
  let samples = 0;
  let piledUp = 0;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      const ids = containerIds();
      const table = await processTable();
      const shims = new Set(
        table
          .filter((p) => (p.words[0] ?? '').includes('containerd-shim'))
          .filter((p) => ids.has(p.words[p.words.indexOf('-id') + 1] ?? ''))
          .map((p) => p.pid),
      );
      const probes = table.filter((p) => shims.has(p.ppid) && isHealthcheckProbe(p.words)).length;
      samples += 1;
      max = Math.max(max, probes);
      // Every container but Redis's probes with Node every 2 s; more than one each at a time
      // means some outlived their turn.
      if (probes > ids.size - 1) piledUp += 1;
    });
  }, 2_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return { max, samples, piledUp };
    },
  };
}

export async function composeScenario(ctx: ComposeContext): Promise<ScenarioResult> {
  const { base, compose, nginx, settings } = ctx;
  const containerRequests = nginx.containerRequests;
  if (containerRequests === undefined || nginx.containerFlagsUrl === undefined) {
    throw new Error('nginx must listen for containers for the compose scenario');
  }
  const peerDirs = {
    reference: path.join(compose.peersDir, 'reference'),
    celery: path.join(compose.peersDir, 'celery'),
  };
  await mkdir(peerDirs.reference, { recursive: true });
  await mkdir(peerDirs.celery, { recursive: true });
  const published = createDownloadsClient(compose.apiUrl());
  const direct = createDownloadsClient(compose.apiDirectUrl());
  const rows: ResultRow[] = [];
  const targets: TargetCheck[] = [];
  const notes: string[] = [];
  let composeWorkers = 0;
  let celeryWorkers = 0;
  let containerIds: ReadonlySet<string> = new Set();
  async function refreshContainerIds(): Promise<void> {
    const all = await Promise.all(['redis', 'origin', 'api', 'worker'].map((service) => compose.containers(service)));
    containerIds = new Set(all.flat().map((c) => c.id));
  }
  const sampler = healthcheckSampler(() => containerIds);

  async function setWorkers(count: number, variant?: StackVariant): Promise<void> {
    base.log(`compose: ${count} worker container(s)${variant === undefined ? '' : ' (variant)'}`);
    await compose.setWorkers(count, variant);
    composeWorkers = count;
    await refreshContainerIds();
  }
  async function setCeleryWorkers(count: number): Promise<void> {
    if (ctx.celery === undefined || celeryWorkers === count) return;
    base.log(`celery: ${count} worker(s)`);
    await ctx.celery.setWorkers(count);
    celeryWorkers = count;
  }

  async function composeProbes(): Promise<CpuProbe[]> {
    const workers = await compose.containers('worker');
    const workerPids = await Promise.all(workers.map((w) => compose.mainPid(w)));
    const [api] = await compose.containers('api');
    const [redis] = await compose.containers('redis');
    if (api === undefined || redis === undefined) throw new Error('compose: api or redis container missing');
    const apiPid = await compose.mainPid(api);
    const proxyPid = await compose.dockerProxyPid();
    const nginxPids = await nginx.pids();
    return [
      { name: 'worker', read: () => sumCpu(workerPids) },
      { name: 'API', read: () => processCpuNs(apiPid) },
      { name: 'Redis (container)', read: async () => (await containerCpuNs(redis.id)) ?? 0 },
      { name: 'docker-proxy', read: () => (proxyPid === undefined ? Promise.resolve(0) : processCpuNs(proxyPid)) },
      { name: 'nginx', read: () => sumCpu(nginxPids) },
    ];
  }
  async function hostProbes(): Promise<CpuProbe[]> {
    const workerPids = base.stack.workers().map((w) => w.pid);
    const nginxPids = await nginx.pids();
    return [
      { name: 'worker', read: () => sumCpu(workerPids) },
      { name: 'API', read: () => processCpuNs(base.stack.apiPid) },
      { name: 'Redis (container)', read: async () => (await containerCpuNs(base.redis.containerId)) ?? 0 },
      { name: 'nginx', read: () => sumCpu(nginxPids) },
    ];
  }

  /** The requests of the run that just finished: nginx logs each as it ends, so wait for all. */
  async function originRequests(expected: number): Promise<LoggedRequest[]> {
    const requests: LoggedRequest[] = [];
    const deadline = performance.now() + 1_000;
    do {
      requests.push(...(await containerRequests!.readNew()));
      if (requests.length >= expected) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    } while (performance.now() < deadline);
    return requests;
  }

  async function checkFiles(dir: string, expected: number, who: string): Promise<void> {
    const onDisk = (await listFlags(dir)).length;
    if (onDisk !== expected) throw new Error(`${who}: ${onDisk} flag files on disk, expected ${expected}`);
  }

  function runner(kind: Kind, codes: readonly string[], cold: boolean, probes: CpuProbe[]): () => Promise<RunResult> {
    const body = codes.length === COUNTRY_CODES.length ? { all: true } : { codes: [...codes] };
    switch (kind) {
      case 'compose':
      case 'direct':
        return async () => {
          if (cold) await emptyDir(compose.downloadsDir);
          await containerRequests!.readNew(); // nothing from before this run
          const client = kind === 'compose' ? published : direct;
          const { result: done, cpuMs } = await cpuDuring(probes, () => client.download(body));
          const requests = await originRequests(2 * codes.length);
          await checkFiles(compose.downloadsDir, codes.length, 'Flagship compose');
          const job = await readJobTimes(ctx.composeRedis, done.id, codes.length);
          return { seconds: done.seconds, timeline: timeline(done.startedAtMs, done.seconds, job, requests), cpuMs };
        };
      case 'host':
        return async () => {
          if (cold) await emptyDir(base.dirs.flagship);
          const { result: done, cpuMs } = await cpuDuring(probes, () => base.client.download(body));
          await checkFiles(base.dirs.flagship, codes.length, 'Flagship host processes');
          return { seconds: done.seconds, cpuMs };
        };
      case 'reference':
        return async () => {
          if (cold) await emptyDir(peerDirs.reference);
          const run = await runReference({
            script: base.referenceScript,
            baseUrl: nginx.flagsUrl,
            destDir: peerDirs.reference,
            codes,
          });
          if (run.count !== codes.length) throw new Error(`the reference saved ${run.count} of ${codes.length}`);
          await checkFiles(peerDirs.reference, codes.length, 'the reference');
          return { seconds: run.printedSeconds, wallSeconds: run.wallSeconds };
        };
      case 'celery':
        return async () => {
          const celery = ctx.celery;
          if (celery === undefined) throw new Error('no Celery peer');
          if (cold) await emptyDir(peerDirs.celery);
          const done = await celery.download(codes, nginx.flagsUrl, peerDirs.celery);
          if (done.saved !== codes.length) throw new Error(`the Celery peer saved ${done.saved} of ${codes.length}`);
          await checkFiles(peerDirs.celery, codes.length, 'the Celery peer');
          return { seconds: done.seconds };
        };
    }
  }

  /** One download of `codes`, each contestant once per round. */
  async function oneDownload(plan: {
    codes: readonly string[];
    cold: boolean;
    contestants: readonly Kind[];
    runs: number;
    /** Latency rows (ms, p50/p95) instead of throughput rows (flags/s). */
    latency: boolean;
    /** Also the timeline and the CPU per download rows. */
    details: boolean;
  }) {
    const what =
      plan.codes.length === COUNTRY_CODES.length
        ? `all countries (${plan.codes.length} flags)`
        : `the reference's ${plan.codes.length} codes`;
    const scenario = `compose: ${what}, ${plan.cold ? 'cold' : 'warm (files present)'}, ${composeWorkers} worker${composeWorkers === 1 ? '' : 's'}`;
    base.log(`${scenario}: ${plan.contestants.join(', ')}; ${base.warmups} warm-up + ${plan.runs} measured rounds`);
    if (plan.contestants.includes('host')) {
      await base.redis.flushAll();
      await base.stack.setWorkers(composeWorkers, nginx.flagsUrl);
    }
    const probesOf = async (kind: Kind) =>
      !plan.details ? [] : kind === 'compose' ? composeProbes() : kind === 'host' ? hostProbes() : [];
    const runners = await Promise.all(
      plan.contestants.map(async (kind) => runner(kind, plan.codes, plan.cold, await probesOf(kind))),
    );
    const results = await rotate(runners, { warmups: base.warmups, runs: plan.runs });
    const samples = new Map(plan.contestants.map((kind, i) => [kind, results[i] as RunResult[]]));
    const seconds = (kind: Kind) => (samples.get(kind) ?? []).map((r) => r.seconds);
    base.log(
      `  medians: ${plan.contestants.map((kind) => `${kind} ${(describe(seconds(kind)).median * 1000).toFixed(1)} ms`).join(', ')}`,
    );
    const flags = plan.codes.length;

    for (const kind of plan.contestants) {
      const runs = samples.get(kind) as RunResult[];
      const subject = SUBJECT[kind](kind === 'celery' ? celeryWorkers : composeWorkers);
      const metricSuffix = kind === 'reference' ? ', printed elapsed' : '';
      rows.push(
        plan.latency
          ? {
              scenario,
              subject,
              metric: `${kind === 'reference' ? 'run time' : 'latency submit → result'}${metricSuffix}`,
              unit: 'ms',
              stats: describe(runs.map((r) => r.seconds * 1000)),
              ...(kind === 'reference' ? { note: 'excludes Python start-up; used for the ratios' } : {}),
            }
          : {
              scenario,
              subject,
              metric: `throughput${metricSuffix}`,
              unit: 'flags/s',
              stats: describe(runs.map((r) => flags / r.seconds)),
              ...(kind === 'reference' ? { note: 'excludes Python start-up; used for the ratios' } : {}),
            },
      );
      if (kind === 'reference') {
        const wall = runs.map((r) => r.wallSeconds as number);
        rows.push({
          scenario,
          subject,
          metric: plan.latency ? 'run time, process wall time' : 'throughput, process wall time',
          unit: plan.latency ? 'ms' : 'flags/s',
          stats: describe(plan.latency ? wall.map((s) => s * 1000) : wall.map((s) => flags / s)),
          note: 'includes Python start-up',
        });
      }
      if (kind === 'compose' && plan.details) {
        for (const step of TIMELINE_STEPS) {
          rows.push({
            scenario,
            subject: 'Flagship compose: time from POST to…',
            metric: step.label,
            unit: 'ms',
            stats: describe(runs.map((r) => (r.timeline as Timeline)[step.key])),
          });
        }
      }
      if (plan.details && (kind === 'compose' || kind === 'host')) {
        for (const name of Object.keys(runs[0]?.cpuMs ?? {})) {
          rows.push({
            scenario,
            subject:
              kind === 'compose' ? 'Flagship compose: CPU per download' : 'Flagship host processes: CPU per download',
            metric: name,
            unit: 'ms',
            stats: describe(runs.map((r) => r.cpuMs?.[name] ?? 0)),
            note: 'all threads of the process (schedstat); Redis: its container cgroup',
          });
        }
      }
    }

    // Paired ratios, each oriented so that > 1 means "the first is faster".
    const ratio = (faster: Kind, than: Kind) => describe(pairedRatios(seconds(than), seconds(faster)));
    const ratioRow = (subject: string, stats: SampleStats, note: string): ResultRow => ({
      scenario,
      subject,
      metric: 'speed ratio, run by run',
      unit: '×',
      stats,
      note,
    });
    const has = (kind: Kind) => plan.contestants.includes(kind);
    const vsReference = has('reference') ? ratio('compose', 'reference') : undefined;
    if (vsReference !== undefined) {
      rows.push(ratioRow('Flagship compose ÷ reference', vsReference, "reference's time ÷ Flagship's, paired rounds"));
    }
    const vsHost = has('host') ? ratio('compose', 'host') : undefined;
    if (vsHost !== undefined) {
      rows.push(
        ratioRow('Flagship compose ÷ host processes', vsHost, "host processes' time ÷ compose's, paired rounds"),
      );
    }
    if (has('direct')) {
      rows.push(
        ratioRow(
          'container address ÷ published port',
          ratio('direct', 'compose'),
          "published port's time ÷ container address's: > 1 is docker-proxy's cost",
        ),
      );
    }
    const vsCelery = has('celery') ? ratio('compose', 'celery') : undefined;
    if (vsCelery !== undefined) {
      rows.push(ratioRow('Flagship compose ÷ Celery peer', vsCelery, "Celery's time ÷ Flagship's, paired rounds"));
    }
    if (has('celery') && has('reference')) {
      rows.push(ratioRow('Celery peer ÷ reference', ratio('celery', 'reference'), "reference's time ÷ Celery's"));
    }
    return { scenario, samples, vsReference, vsHost, vsCelery };
  }

  async function sustained(
    workers: number,
  ): Promise<{ flagship: SampleStats; celery?: SampleStats; ratio?: SampleStats; rssMb: number[] }> {
    const downloads = settings.sustainedDownloads;
    const scenario = `compose: sustained, ${downloads} downloads × ${COUNTRY_CODES.length} flags at once, ${workers} worker${workers === 1 ? '' : 's'}`;
    await setWorkers(workers);
    await setCeleryWorkers(workers);
    base.log(`${scenario}: ${base.warmups} warm-up + ${settings.sustainedRuns} measured rounds`);
    const flagship = async () => {
      await emptyDir(compose.downloadsDir);
      const started = performance.now();
      await Promise.all(Array.from({ length: downloads }, () => published.download({ all: true })));
      const seconds = (performance.now() - started) / 1000;
      await checkFiles(compose.downloadsDir, COUNTRY_CODES.length, 'Flagship compose (sustained)');
      await containerRequests!.readNew();
      return seconds;
    };
    const celery = async () => {
      if (ctx.celery === undefined) throw new Error('no Celery peer');
      await emptyDir(peerDirs.celery);
      const done = await ctx.celery.batch(downloads, COUNTRY_CODES, nginx.flagsUrl, peerDirs.celery);
      if (done.saved !== downloads * COUNTRY_CODES.length) throw new Error(`the Celery peer saved ${done.saved} flags`);
      await checkFiles(peerDirs.celery, COUNTRY_CODES.length, 'the Celery peer (sustained)');
      return done.seconds;
    };
    const [flagshipSeconds, celerySeconds] = await rotate(ctx.celery === undefined ? [flagship] : [flagship, celery], {
      warmups: base.warmups,
      runs: settings.sustainedRuns,
    });
    const rate = (s: number) => (downloads * COUNTRY_CODES.length) / s;
    base.log(
      `  medians: compose ${describe(flagshipSeconds as number[]).median.toFixed(2)} s` +
        (celerySeconds === undefined ? '' : `, celery ${describe(celerySeconds).median.toFixed(2)} s`),
    );
    const flagshipStats = describe((flagshipSeconds as number[]).map(rate));
    rows.push({
      scenario,
      subject: SUBJECT.compose(workers),
      metric: 'throughput',
      unit: 'flags/s',
      stats: flagshipStats,
    });
    const containers = await compose.containers('worker');
    const rssMb = await Promise.all(
      containers.map(async (c) => parseVmHwm(await readFile(`/proc/${await compose.mainPid(c)}/status`, 'utf8')) / MiB),
    );
    rows.push({
      scenario,
      subject: `Flagship compose (${workers} worker${workers === 1 ? '' : 's'})`,
      metric: 'peak RSS per worker process',
      unit: 'MB',
      stats: describe(rssMb),
      note: 'VmHWM of the node process in each worker container, over warm-up and measured batches; n = workers',
    });
    if (celerySeconds === undefined) return { flagship: flagshipStats, rssMb };
    const celeryStats = describe(celerySeconds.map(rate));
    rows.push({
      scenario,
      subject: SUBJECT.celery(workers),
      metric: 'throughput',
      unit: 'flags/s',
      stats: celeryStats,
    });
    const ratio = describe(pairedRatios(celerySeconds, flagshipSeconds as number[]));
    rows.push({
      scenario,
      subject: 'Flagship compose ÷ Celery peer',
      metric: 'speed ratio, run by run',
      unit: '×',
      stats: ratio,
      note: "Celery's batch time ÷ Flagship's, paired rounds",
    });
    return { flagship: flagshipStats, celery: celeryStats, ratio, rssMb };
  }

  async function profileWorker(): Promise<void> {
    const dir = path.join(ctx.workDir, 'profiles', 'compose-worker');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777); // the worker runs as uid 1000
    const flagsOfImage = imageNodeArgs(await readFile(path.join(ctx.repoRoot, 'Dockerfile'), 'utf8'), 'worker');
    const override = path.join(ctx.workDir, 'compose', 'profile.override.json');
    await mkdir(path.dirname(override), { recursive: true });
    // JSON is YAML: the image's own command with --cpu-prof added, and a folder for the profile.
    await writeFile(
      override,
      JSON.stringify(
        {
          services: {
            worker: {
              command: [
                'node',
                ...flagsOfImage,
                '--cpu-prof',
                '--cpu-prof-dir=/profiles',
                'services/worker/src/main.ts',
              ],
              volumes: [`${dir}:/profiles`],
            },
          },
        },
        null,
        2,
      ),
    );
    await setWorkers(1, { files: [override] });
    const count = settings.profileDownloads;
    base.log(`compose: CPU profile of the worker over ${count} cold all-countries downloads`);
    await published.download({ all: true }); // warm connections and JIT, outside the window
    const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
    const fromUs = monotonicUs();
    for (let i = 0; i < count; i++) {
      await emptyDir(compose.downloadsDir);
      await published.download({ all: true });
    }
    const toUs = monotonicUs();
    await containerRequests!.readNew();
    await compose.stop('worker'); // SIGTERM: the worker exits and writes the profile
    const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
    if (files.length !== 1) throw new Error(`expected one worker profile in ${dir}, found ${files.length}`);
    const profile = JSON.parse(await readFile(path.join(dir, files[0] as string), 'utf8')) as CpuProfile;
    const summary = summarizeProfile(profile, 10, { fromUs, toUs });
    notes.push(
      `**compose: CPU profile of the worker in its container** (\`--cpu-prof\`, ${count} cold all-countries downloads, ` +
        `one worker; ${summary.windowed ? 'samples of the measured window only' : 'the whole process life: the window did not line up with the profile clock'}): ` +
        describeProfile(summary, { count, unit: 'download' }) +
        `. Profile: \`bench/.work/profiles/compose-worker/${files[0]}\`.`,
    );
    await setWorkers(1);
  }

  async function idleCost(): Promise<void> {
    const services = ['redis', 'origin', 'api', 'worker'];
    const containers = (
      await Promise.all(services.map(async (s) => ({ s, list: await compose.containers(s) })))
    ).flatMap(({ s, list }) => list.map((c) => ({ service: s, id: c.id })));
    const shims = await findProcesses(
      (words) => (words[0] ?? '').includes('containerd-shim') && containers.some((c) => words.includes(c.id)),
    );
    const read = async () => ({
      cgroups: await Promise.all(containers.map(async (c) => (await containerCpuNs(c.id)) ?? 0)),
      shims: await sumCpu(shims),
    });
    base.log(`compose: CPU of the idle stack over ${settings.idleSeconds} s`);
    const before = await read();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, settings.idleSeconds * 1000));
    const after = await read();
    const seconds = (performance.now() - started) / 1000;
    const scenario = 'compose: the idle stack (no download running)';
    const perService = new Map<string, number>();
    containers.forEach((c, i) => {
      const ms = ((after.cgroups[i] ?? 0) - (before.cgroups[i] ?? 0)) / 1e6 / seconds;
      perService.set(c.service, (perService.get(c.service) ?? 0) + ms);
    });
    const one = (ms: number) => describe([ms]);
    for (const [service, ms] of perService) {
      rows.push({
        scenario,
        subject: `container ${service}`,
        metric: 'CPU while idle',
        unit: 'ms/s',
        stats: one(ms),
        note: "the container's cgroup: its service plus each healthcheck `docker exec`",
      });
    }
    const shimMs = (after.shims - before.shims) / 1e6 / seconds;
    rows.push({
      scenario,
      subject: "the containers' containerd shims",
      metric: 'CPU while idle',
      unit: 'ms/s',
      stats: one(shimMs),
      note: 'runc and dockerd work for the healthchecks is not counted',
    });
    const total = [...perService.values()].reduce((a, b) => a + b, 0) + shimMs;
    notes.push(
      `**compose: the idle stack** uses ${total.toFixed(0)} ms of CPU per second (${((total / 1000) * 100).toFixed(0)}% of one core) ` +
        `with no download running, measured over ${seconds.toFixed(0)} s: ` +
        [...perService.entries()].map(([s, ms]) => `${s} ${ms.toFixed(0)} ms/s`).join(', ') +
        `, shims ${shimMs.toFixed(0)} ms/s, healthchecks included: the compose file probes api, worker and origin ` +
        'every 2 s, each probe a process started in the container; on 2 cores that CPU is taken from whatever download is running then.',
    );
  }

  /**
   * What a download scenario measures, and so which codes and how many rounds: every
   * country as throughput (flags/s rows), the reference's 20 codes as latency (ms rows).
   */
  const MEASURES = {
    throughput: { codes: COUNTRY_CODES, runs: base.runs, latency: false },
    latency: { codes: REFERENCE_CODES, runs: settings.latencyRuns, latency: true },
  } as const;

  /** Compose against the reference alone, without the timeline and CPU rows: the variants --full adds. */
  const againstReference = (measure: keyof typeof MEASURES, cold: boolean) =>
    oneDownload({ ...MEASURES[measure], cold, contestants: ['compose', 'reference'], details: false });

  try {
    await setCeleryWorkers(1);
    await setWorkers(1);
    const all = await oneDownload({
      ...MEASURES.throughput,
      cold: true,
      contestants: settings.full
        ? ['compose', 'direct', 'host', 'reference', ...(ctx.celery ? (['celery'] as const) : [])]
        : ['compose', 'reference', 'celery'],
      details: true,
    });
    const latency = await oneDownload({
      ...MEASURES.latency,
      cold: true,
      contestants: settings.full
        ? ['compose', 'direct', 'reference', ...(ctx.celery ? (['celery'] as const) : [])]
        : ['compose', 'reference', 'celery'],
      details: true,
    });
    if (settings.full) {
      await againstReference('latency', false);
      await againstReference('throughput', false);
      await setWorkers(2);
      await againstReference('throughput', true);
      await againstReference('throughput', false);
    }
    const one = await sustained(1);
    const two = await sustained(2);
    if (settings.full) {
      await profileWorker();
      await idleCost();
    }

    // Targets.
    const allRatio = all.vsReference as SampleStats;
    const composeAll = describe(
      (all.samples.get('compose') as RunResult[]).map((r) => COUNTRY_CODES.length / r.seconds),
    );
    const referenceAll = describe(
      (all.samples.get('reference') as RunResult[]).map((r) => COUNTRY_CODES.length / r.seconds),
    );
    targets.push({
      scenario: all.scenario,
      measure: 'flags/s, POST → completed over the published port, files on disk',
      target: `≥ ${ALL_TARGET}× the reference's flags/s (median of paired ratios)`,
      value: allRatio.median,
      comparison: '>=',
      threshold: ALL_TARGET,
      unit: '×',
      detail: `paired ratios ${formatSpread(allRatio)}; medians ${Math.round(composeAll.median)} vs ${Math.round(referenceAll.median)} flags/s`,
    });
    const composeLatency = describe((latency.samples.get('compose') as RunResult[]).map((r) => r.seconds * 1000));
    const referenceLatency = describe((latency.samples.get('reference') as RunResult[]).map((r) => r.seconds * 1000));
    const latencyRatios = describe(
      pairedRatios(
        (latency.samples.get('compose') as RunResult[]).map((r) => r.seconds),
        (latency.samples.get('reference') as RunResult[]).map((r) => r.seconds),
      ),
    );
    // Judged, like the other ratio targets, on the median of the paired run-by-run ratios:
    // a ratio of two medians taken apart swings with the machine's load between runs
    // (issue 11). The p50s and their ratio stay in the detail.
    targets.push({
      scenario: latency.scenario,
      measure: "latency POST → completed over the published port ÷ the reference's printed time, run by run",
      target: `≤ ${LATENCY_TARGET}× the reference's printed time (median of paired ratios)`,
      value: latencyRatios.median,
      comparison: '<=',
      threshold: LATENCY_TARGET,
      unit: '×',
      detail:
        `paired Flagship ÷ reference time ${formatSpread(latencyRatios)}; ` +
        `p50 ${composeLatency.median.toFixed(1)} ms, p95 ${composeLatency.p95.toFixed(1)} ms vs reference median ${referenceLatency.median.toFixed(1)} ms printed ` +
        `(ratio of the medians ${(composeLatency.median / referenceLatency.median).toFixed(3)}×)`,
    });
    if (two.ratio !== undefined && two.celery !== undefined) {
      targets.push({
        scenario: `compose: sustained, ${settings.sustainedDownloads} downloads, 2 workers`,
        measure: 'flags/s vs the Celery peer with 2 workers',
        target: `≥ ${CELERY_TARGET}× Celery (median of paired ratios)`,
        value: two.ratio.median,
        comparison: '>=',
        threshold: CELERY_TARGET,
        unit: '×',
        detail: `paired ratios ${formatSpread(two.ratio)}; medians ${Math.round(two.flagship.median)} vs ${Math.round(two.celery.median)} flags/s`,
      });
    }
    const peak = Math.max(...one.rssMb, ...two.rssMb);
    targets.push({
      scenario: 'compose: memory (sustained batches)',
      measure: 'worker peak resident memory in the container',
      target: `< ${MEMORY_LIMIT_MB} MB per worker`,
      value: peak,
      comparison: '<=',
      threshold: MEMORY_LIMIT_MB,
      unit: 'MB',
      detail: `peaks: 1 worker ${one.rssMb.map((m) => m.toFixed(0)).join(', ')} MB; 2 workers ${two.rssMb.map((m) => m.toFixed(0)).join(', ')} MB`,
    });
    if (all.vsHost !== undefined) {
      targets.push({
        scenario: all.scenario,
        measure: 'compose stack vs the same services as host processes, flags/s',
        target: `within ${Math.round((HOST_TOLERANCE - 1) * 100)}% (${(1 / HOST_TOLERANCE).toFixed(2)}×–${HOST_TOLERANCE}×, median of paired ratios)`,
        value: all.vsHost.median,
        comparison: 'within',
        threshold: 1 / HOST_TOLERANCE,
        upper: HOST_TOLERANCE,
        unit: '×',
        detail: `compose ÷ host processes ${formatSpread(all.vsHost)}`,
      });
    }
    const probes = await sampler.stop();
    notes.push(
      `**compose: healthcheck probes.** Sampled every 2 s over the compose scenarios (${probes.samples} samples): at most ` +
        `${probes.max} healthcheck probes were running at once in this stack's containers (api, origin and each ` +
        `worker probe every 2 s), more than one per container in ${probes.piledUp} samples. Docker Engine 20.10 does not kill a probe that outlives ` +
        'its 3 s timeout (moby/moby#43737): probes that start Node took longer than the interval on a loaded machine and piled up.',
    );
    if (compose.upRetries() > 0) {
      notes.push(
        `**compose: slow to come up.** ${compose.upRetries()} \`docker compose up --wait\` calls failed with a service ` +
          '"unhealthy" (its Node healthcheck timed out) and were waited for again.',
      );
    }
    const retried = published.retried() + direct.retried();
    if (retried > 0) {
      notes.push(
        `**compose: requests refused.** ${retried} \`POST /v1/downloads\` or \`GET /v1/downloads/:id/events\` requests ` +
          'were answered 503 ("Redis did not answer … within 1000 ms") and sent again by the client (their time counts); ' +
          'every download completed. Seen only with the machine loaded well beyond its 2 cores (load average under Settings).',
      );
    }
    return { rows, targets, notes };
  } finally {
    await sampler.stop();
    await Promise.allSettled([published.close(), direct.close()]);
  }
}
