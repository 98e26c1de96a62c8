// Paired runs of several programs on a shared, noisy machine: in every round each program
// runs once, one after another, so the runs of a round saw the same load; the order
// shifts every round (each program goes first in turn) so none is always the one
// running right after another's burst of file deletions or a cold cache.

/** The order of round `round` for `count` programs: a cyclic shift by the round number. */
export function rotationOrder(count: number, round: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, k) => (round + k) % count);
}

/**
 * Runs `warmups` unrecorded rounds, then `runs` recorded ones; returns the samples of
 * each runner, index by index the same rounds (paired).
 */
export async function rotate<T>(
  runners: readonly (() => Promise<T>)[],
  rounds: { warmups: number; runs: number },
): Promise<T[][]> {
  const samples: T[][] = runners.map(() => []);
  for (let round = 0; round < rounds.warmups + rounds.runs; round++) {
    const recorded = round >= rounds.warmups;
    for (const index of rotationOrder(runners.length, round)) {
      const sample = await (runners[index] as () => Promise<T>)();
      if (recorded) (samples[index] as T[]).push(sample);
    }
  }
  return samples;
}
