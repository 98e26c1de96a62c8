// Scenario 1: every country in one download, from POST accepted to completed with the
// files on disk, against the reference program downloading the same codes from the
// same origin. Run against nginx (the target row) and against the Flagship origin
// service (reported, not targeted: there the origin's own speed is part of the result).
import { COUNTRY_CODES } from '@flagship/common';
import { describe, pairedRatios } from '../stats.ts';
import type { ResultRow } from '../report.ts';
import { ms, type BenchContext, type ScenarioResult } from './context.ts';
import { compareOneDownload } from './one-download.ts';

export interface OriginUnderTest {
  /** "nginx" or "Flagship origin service". */
  name: string;
  flagsUrl: string;
  /** Only the nginx row carries the target. */
  targeted: boolean;
}

const TARGET_RATIO = 3;

export async function allCountriesScenario(ctx: BenchContext, origin: OriginUnderTest): Promise<ScenarioResult> {
  const scenario = `all countries (${COUNTRY_CODES.length} flags), origin: ${origin.name}`;
  ctx.log(`${scenario}: 1 worker, ${ctx.warmups} warm-up + ${ctx.runs} measured runs each`);
  await ctx.redis.flushAll();
  await ctx.stack.setWorkers(1, origin.flagsUrl);
  const samples = await compareOneDownload(ctx, {
    codes: COUNTRY_CODES,
    body: { all: true },
    originUrl: origin.flagsUrl,
    runs: ctx.runs,
    warmups: ctx.warmups,
  });
  const flags = COUNTRY_CODES.length;
  const flagship = describe(samples.flagshipSeconds.map((s) => flags / s));
  const reference = describe(samples.referencePrintedSeconds.map((s) => flags / s));
  const referenceWall = describe(samples.referenceWallSeconds.map((s) => flags / s));
  const ratios = describe(pairedRatios(samples.referencePrintedSeconds, samples.flagshipSeconds));
  const commands = describe(samples.redisCommandsPerFlag);
  const rows: ResultRow[] = [
    { scenario, subject: 'Flagship (API + 1 worker)', metric: 'throughput', unit: 'flags/s', stats: flagship },
    {
      scenario,
      subject: 'Flagship (API + 1 worker)',
      metric: 'POST → completed',
      unit: 'ms',
      stats: describe(ms(samples.flagshipSeconds)),
    },
    {
      scenario,
      subject: 'reference (asyncio)',
      metric: 'throughput, printed elapsed',
      unit: 'flags/s',
      stats: reference,
      note: 'excludes Python start-up; used for the ratio',
    },
    {
      scenario,
      subject: 'reference (asyncio)',
      metric: 'throughput, process wall time',
      unit: 'flags/s',
      stats: referenceWall,
      note: 'includes Python start-up',
    },
    {
      scenario,
      subject: 'Flagship ÷ reference',
      metric: 'speed ratio, run by run',
      unit: '×',
      stats: ratios,
      note: 'paired alternating runs',
    },
    { scenario, subject: 'Flagship', metric: 'Redis commands per flag', unit: 'commands', stats: commands },
  ];
  const diff = samples.nameDifferences;
  const sameNames = diff.onlyFlagship.length === 0 && diff.onlyReference.length === 0;
  const notes = [
    sameNames
      ? `**${scenario}**: both programs wrote the same ${flags} file names.`
      : `**${scenario}**: ${diff.onlyFlagship.length} of ${flags} file names differ from the reference's ` +
        `(Flagship: ${diff.onlyFlagship.slice(0, 3).join(', ')}, …; the reference: ${diff.onlyReference
          .slice(0, 3)
          .join(', ')}, …).`,
  ];
  const ratio = flagship.median / reference.median;
  const targets = origin.targeted
    ? [
        {
          scenario,
          measure: 'flags/s, POST accepted → completed, files on disk',
          target: `≥ ${TARGET_RATIO}× the reference's flags/s`,
          value: ratio,
          comparison: '>=' as const,
          threshold: TARGET_RATIO,
          unit: '×',
          detail: `medians ${Math.round(flagship.median)} vs ${Math.round(reference.median)} flags/s (reference by its printed elapsed; by wall time ${Math.round(referenceWall.median)})`,
        },
      ]
    : [];
  return { rows, targets, notes };
}
