// Medians, ratios and the RESULTS.md table of the echo benchmark.
import type { IdleResult, RoundTripResult, ThroughputResult } from './echo-load.ts';

export type ServerName = 'baseline' | 'flagship';

export interface RunSample {
  server: ServerName;
  run: number;
  throughput: ThroughputResult;
  roundTrips: RoundTripResult;
  idle: IdleResult;
  /** How the server process exited on SIGTERM (0 expected). */
  exitCode: number | null;
}

export interface Summary {
  throughputMiBps: Record<ServerName, number>;
  throughputRatio: number;
  roundTripsPerSecond: Record<ServerName, number>;
  roundTripRatio: number;
  /** Server CPU per MiB streamed, ms (median over runs): the efficiency, whatever limits the rate. */
  throughputCpuMsPerMiB: Record<ServerName, number>;
  /** Server CPU per 1000 round trips, ms (median over runs). */
  roundTripCpuMsPer1k: Record<ServerName, number>;
  idleRssMiB: Record<ServerName, number>;
  idleErrors: Record<ServerName, number>;
  idleHeld: Record<ServerName, number>;
  passed: { throughput: boolean; roundTrips: boolean; idle: boolean };
}

export interface BenchResults {
  date: string;
  commit: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
  settings: Record<string, unknown>;
  samples: RunSample[];
  summary: Summary;
}

export const TARGETS = { ratio: 0.95, idleRssMiB: 150 } as const;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(samples: readonly RunSample[]): Summary {
  const of = (server: ServerName, pick: (sample: RunSample) => number) =>
    median(samples.filter((sample) => sample.server === server).map(pick));
  const both = (pick: (sample: RunSample) => number): Record<ServerName, number> => ({
    baseline: of('baseline', pick),
    flagship: of('flagship', pick),
  });
  const throughputMiBps = both((sample) => sample.throughput.bytesPerSecond / 2 ** 20);
  const roundTripsPerSecond = both((sample) => sample.roundTrips.roundTripsPerSecond);
  const throughputCpuMsPerMiB = both((sample) => sample.throughput.serverCpuMsPerMiB ?? Number.NaN);
  const roundTripCpuMsPer1k = both((sample) => sample.roundTrips.serverCpuMsPer1k ?? Number.NaN);
  const idleRssMiB = both((sample) => sample.idle.serverRssBytes / 2 ** 20);
  const sum = (server: ServerName, pick: (sample: RunSample) => number) =>
    samples.filter((sample) => sample.server === server).reduce((total, sample) => total + pick(sample), 0);
  const idleErrors = {
    baseline: sum('baseline', (sample) => sample.idle.errors + sample.throughput.errors + sample.roundTrips.errors),
    flagship: sum('flagship', (sample) => sample.idle.errors + sample.throughput.errors + sample.roundTrips.errors),
  };
  const idleHeld = both((sample) => sample.idle.connected);
  // Each run measures both servers in alternating slices: the ratio within a run is
  // paired (same moment, same noise), so the median of those ratios is the robust one.
  const throughputRatio = pairedRatio(samples, (sample) => sample.throughput.bytesPerSecond);
  const roundTripRatio = pairedRatio(samples, (sample) => sample.roundTrips.roundTripsPerSecond);
  const flagshipIdle = samples.filter((sample) => sample.server === 'flagship').map((sample) => sample.idle);
  return {
    throughputMiBps,
    throughputRatio,
    roundTripsPerSecond,
    roundTripRatio,
    throughputCpuMsPerMiB,
    roundTripCpuMsPer1k,
    idleRssMiB,
    idleErrors,
    idleHeld,
    passed: {
      throughput: throughputRatio >= TARGETS.ratio,
      roundTrips: roundTripRatio >= TARGETS.ratio,
      idle:
        idleErrors.flagship === 0 &&
        flagshipIdle.every((idle) => idle.alive > 0) &&
        idleRssMiB.flagship < TARGETS.idleRssMiB,
    },
  };
}

/** Median over runs of flagship / baseline within the same run. */
export function pairedRatio(samples: readonly RunSample[], pick: (sample: RunSample) => number): number {
  const runs = [...new Set(samples.map((sample) => sample.run))];
  const ratios = runs.flatMap((run) => {
    const flagship = samples.find((sample) => sample.run === run && sample.server === 'flagship');
    const baseline = samples.find((sample) => sample.run === run && sample.server === 'baseline');
    return flagship && baseline ? [pick(flagship) / pick(baseline)] : [];
  });
  return median(ratios);
}

const mark = (passed: boolean) => (passed ? 'yes' : '**no**');
const fixed = (value: number, digits = 0) => value.toFixed(digits);
/** A measurement older results lack shows as a dash. */
const optional = (value: number | undefined, digits: number) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

export function renderResults(results: BenchResults): string {
  const { summary: s, machine: m } = results;
  const runs = results.samples
    .map(
      (sample) =>
        `| ${sample.run} | ${sample.server} | ${fixed(sample.throughput.bytesPerSecond / 2 ** 20)} | ${fixed(sample.roundTrips.roundTripsPerSecond)} | ${optional(sample.throughput.serverCpuMsPerMiB, 3)} | ${optional(sample.roundTrips.serverCpuMsPer1k, 2)} | ${sample.idle.connected} | ${sample.idle.errors} | ${sample.idle.alive} | ${fixed(sample.idle.serverRssBytes / 2 ** 20)} | ${fixed(sample.idle.connectMs)} | ${sample.exitCode} |`,
    )
    .join('\n');
  const idleCount = String(results.settings.idleConnections ?? '');
  return `# Echo benchmark results

Flagship's echo service (\`services/echo\`, production settings: \`node ${String((results.settings.echoNodeFlags as string[]).join(' '))} src/main.ts\`,
logs at info) against a minimal \`net\` echo (\`socket.pipe(socket)\`, \`bench/echo/baseline-echo.ts\`),
both started by \`node bench/echo/echo-bench.ts\` on 127.0.0.1, fresh processes each run, order alternating.
The load runs in the benchmark's own process (one core for the client, one for the server on this machine).
Server CPU is read from /proc while each load is counted (every thread of the server, GC helpers included):
unlike the rates, it does not depend on whether the client or the server is the bottleneck at that moment.

- Date: ${results.date}
- Commit: ${results.commit}
- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}
- Settings: ${results.samples.length / 2} runs per server; throughput ${Number(results.settings.throughputMs) / 1000} s, round trips ${Number(results.settings.rttMs) / 1000} s, ${idleCount} idle connections held ${Number(results.settings.holdMs) / 1000} s

## Medians

| scenario | baseline | flagship | flagship / baseline (median of per-run ratios) | target | met |
|---|---|---|---|---|---|
| streaming, 10 connections × 64 KiB writes (MiB/s) | ${fixed(s.throughputMiBps.baseline)} | ${fixed(s.throughputMiBps.flagship)} | ${fixed(s.throughputRatio, 3)} | ≥ ${TARGETS.ratio} | ${mark(s.passed.throughput)} |
| 1 KiB round trips, 10 connections (per s) | ${fixed(s.roundTripsPerSecond.baseline)} | ${fixed(s.roundTripsPerSecond.flagship)} | ${fixed(s.roundTripRatio, 3)} | ≥ ${TARGETS.ratio} | ${mark(s.passed.roundTrips)} |
| server CPU per MiB streamed (ms; less is better) | ${optional(s.throughputCpuMsPerMiB.baseline, 3)} | ${optional(s.throughputCpuMsPerMiB.flagship, 3)} | | | |
| server CPU per 1000 round trips (ms; less is better) | ${optional(s.roundTripCpuMsPer1k.baseline, 2)} | ${optional(s.roundTripCpuMsPer1k.flagship, 2)} | | | |
| ${idleCount} idle connections: server RSS (MiB) | ${fixed(s.idleRssMiB.baseline)} | ${fixed(s.idleRssMiB.flagship)} | | < ${TARGETS.idleRssMiB} MiB, 0 errors | ${mark(s.passed.idle)} |
| connections held (median) / errors (all runs, all scenarios) | ${s.idleHeld.baseline} / ${s.idleErrors.baseline} | ${s.idleHeld.flagship} / ${s.idleErrors.flagship} | | | |

## Every run

| run | server | MiB/s | round trips/s | CPU ms / MiB | CPU ms / 1k round trips | idle held | idle errors | probes alive | RSS MiB | connect ms | exit code |
|---|---|---|---|---|---|---|---|---|---|---|---|
${runs}
`;
}
