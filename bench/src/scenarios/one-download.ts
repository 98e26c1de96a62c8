// One download, Flagship against the reference program, alternating run by run (the
// order flips every run so neither always goes first), each run cold: its downloads
// folder is emptied just before it, so both programs create every file. Afterwards
// both folders are checked: every flag on disk, and the same file names.
import { differences, emptyDir, listFlags } from '../files.ts';
import { runReference } from '../reference.ts';
import type { BenchContext } from './context.ts';

export interface OneDownloadOptions {
  codes: readonly string[];
  /** POST body asking Flagship for the same codes. */
  body: object;
  /** BASE_URL of the reference; the workers must already download from the same origin. */
  originUrl: string;
  runs: number;
  warmups: number;
}

export interface OneDownloadSamples {
  flagshipSeconds: number[];
  referencePrintedSeconds: number[];
  referenceWallSeconds: number[];
  /** Redis commands (INFO commandstats, script-internal ones included) per flag, per Flagship run. */
  redisCommandsPerFlag: number[];
  /** File names only one of the programs wrote, from the first measured run. */
  nameDifferences: { onlyFlagship: string[]; onlyReference: string[] };
}

async function flagshipRun(
  ctx: BenchContext,
  options: OneDownloadOptions,
): Promise<{ seconds: number; calls: number }> {
  await emptyDir(ctx.dirs.flagship);
  await ctx.redis.resetStats();
  const done = await ctx.client.download(options.body);
  const calls = [...(await ctx.redis.commandCalls()).values()].reduce((sum, n) => sum + n, 0);
  const onDisk = await listFlags(ctx.dirs.flagship);
  if (done.saved !== options.codes.length || onDisk.length !== options.codes.length) {
    throw new Error(`Flagship saved ${done.saved} flags, ${onDisk.length} on disk, of ${options.codes.length}`);
  }
  return { seconds: done.seconds, calls };
}

async function referenceRun(ctx: BenchContext, options: OneDownloadOptions) {
  await emptyDir(ctx.dirs.reference);
  const run = await runReference({
    script: ctx.referenceScript,
    baseUrl: options.originUrl,
    destDir: ctx.dirs.reference,
    codes: options.codes,
  });
  const onDisk = await listFlags(ctx.dirs.reference);
  if (run.count !== options.codes.length || onDisk.length !== options.codes.length) {
    throw new Error(`the reference saved ${run.count} flags, ${onDisk.length} on disk, of ${options.codes.length}`);
  }
  return run;
}

export async function compareOneDownload(ctx: BenchContext, options: OneDownloadOptions): Promise<OneDownloadSamples> {
  const samples: OneDownloadSamples = {
    flagshipSeconds: [],
    referencePrintedSeconds: [],
    referenceWallSeconds: [],
    redisCommandsPerFlag: [],
    nameDifferences: { onlyFlagship: [], onlyReference: [] },
  };
  for (let i = 0; i < options.warmups + options.runs; i++) {
    const measured = i >= options.warmups;
    const flagshipFirst = i % 2 === 0;
    const first = flagshipFirst ? await flagshipRun(ctx, options) : undefined;
    const reference = await referenceRun(ctx, options);
    const flagship = first ?? (await flagshipRun(ctx, options));
    if (!measured) continue;
    samples.flagshipSeconds.push(flagship.seconds);
    samples.redisCommandsPerFlag.push(flagship.calls / options.codes.length);
    samples.referencePrintedSeconds.push(reference.printedSeconds);
    samples.referenceWallSeconds.push(reference.wallSeconds);
    if (i === options.warmups) {
      const diff = differences(await listFlags(ctx.dirs.flagship), await listFlags(ctx.dirs.reference));
      samples.nameDifferences = { onlyFlagship: diff.onlyA, onlyReference: diff.onlyB };
    }
  }
  return samples;
}
