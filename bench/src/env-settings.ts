// The benchmark's numeric settings from the environment (BENCH_RUNS, STORE_COST_PAIRS, …):
// unset or empty takes the default; anything but a positive integer stops the run with
// a message naming the variable.

/** The positive integer in environment variable `name`, or `fallback` when it is unset or empty. */
export function positiveIntegerSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
