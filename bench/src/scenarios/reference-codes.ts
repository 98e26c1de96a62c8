// Scenario 2: the reference's own 20 codes, one download: the latency a user sees,
// POST → completed (p50 and p95), against the reference program's run time. More runs
// than the other scenarios (they are short) so p95 is not just the maximum.
import { REFERENCE_CODES } from '@flagship/common';
import { describe } from '../stats.ts';
import { ms, type BenchContext, type ScenarioResult } from './context.ts';
import { compareOneDownload } from './one-download.ts';

export async function referenceCodesScenario(
  ctx: BenchContext,
  origin: { name: string; flagsUrl: string },
  runs: number,
): Promise<ScenarioResult> {
  const scenario = `reference's ${REFERENCE_CODES.length} codes, origin: ${origin.name}`;
  ctx.log(`${scenario}: ${ctx.warmups} warm-up + ${runs} measured runs each`);
  await ctx.redis.flushAll();
  await ctx.stack.setWorkers(1, origin.flagsUrl);
  const samples = await compareOneDownload(ctx, {
    codes: REFERENCE_CODES,
    body: { codes: [...REFERENCE_CODES] },
    originUrl: origin.flagsUrl,
    runs,
    warmups: ctx.warmups,
  });
  const flagship = describe(ms(samples.flagshipSeconds));
  const reference = describe(ms(samples.referencePrintedSeconds));
  const referenceWall = describe(ms(samples.referenceWallSeconds));
  return {
    rows: [
      {
        scenario,
        subject: 'Flagship (API + 1 worker)',
        metric: 'latency POST → completed',
        unit: 'ms',
        stats: flagship,
      },
      {
        scenario,
        subject: 'reference (asyncio)',
        metric: 'run time, printed elapsed',
        unit: 'ms',
        stats: reference,
        note: 'excludes Python start-up; used for the ratio',
      },
      {
        scenario,
        subject: 'reference (asyncio)',
        metric: 'run time, process wall time',
        unit: 'ms',
        stats: referenceWall,
        note: 'includes Python start-up',
      },
      {
        scenario,
        subject: 'Flagship',
        metric: 'Redis commands per flag',
        unit: 'commands',
        stats: describe(samples.redisCommandsPerFlag),
      },
    ],
    targets: [
      {
        scenario,
        measure: 'latency POST → completed, p50',
        target: "p50 ≤ 1.0× the reference's run time",
        value: flagship.median / reference.median,
        comparison: '<=',
        threshold: 1,
        unit: '×',
        detail: `p50 ${flagship.median.toFixed(1)} ms, p95 ${flagship.p95.toFixed(1)} ms vs reference median ${reference.median.toFixed(1)} ms printed (${referenceWall.median.toFixed(0)} ms wall)`,
      },
    ],
    notes: [],
  };
}
