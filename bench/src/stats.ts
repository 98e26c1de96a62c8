// Summary statistics of benchmark samples: median, min–max and nearest-rank
// percentiles. Nearest rank (never interpolated) so a reported p95 is a latency that
// was really observed; with 11–21 samples it is the largest or second largest.

export interface SampleStats {
  n: number;
  median: number;
  min: number;
  max: number;
  p95: number;
  /** Lower and upper quartile (nearest rank): q3 − q1 is the interquartile range. */
  q1: number;
  q3: number;
  mean: number;
}

/** The value at percentile `p` (0 < p ≤ 100) of ascending `sorted`, by nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1] as number;
}

/** Median: the middle sample, or the mean of the two middle ones for an even count. */
export function median(sorted: readonly number[]): number {
  if (sorted.length === 0) throw new RangeError('median of no samples');
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] as number) + upper) / 2;
}

export function describe(samples: readonly number[]): SampleStats {
  if (samples.length === 0) throw new RangeError('no samples to describe');
  const bad = samples.find((sample) => !Number.isFinite(sample));
  if (bad !== undefined) throw new RangeError(`samples must be finite numbers, got ${bad}`);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: median(sorted),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    p95: percentile(sorted, 95),
    q1: percentile(sorted, 25),
    q3: percentile(sorted, 75),
    mean: sorted.reduce((sum, sample) => sum + sample, 0) / sorted.length,
  };
}

/**
 * Element-wise `a[i] / b[i]` of paired samples (runs that alternated). On a shared,
 * noisy machine a ratio taken run by run cancels the load both runs saw; its median and
 * interquartile range say more than a ratio of two medians measured minutes apart.
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  return a.map((value, index) => value / (b[index] as number));
}

/** First and third quartiles (nearest rank) and their distance, the interquartile range. */
export function quartiles(samples: readonly number[]): { q1: number; q3: number; iqr: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const q1 = percentile(sorted, 25);
  const q3 = percentile(sorted, 75);
  return { q1, q3, iqr: q3 - q1 };
}
