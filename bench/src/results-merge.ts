// A partial run (BENCH_ONLY=compose,celery, say) must not wipe the rows of the scenarios it
// did not run from bench/RESULTS.md: it takes the earlier results/latest.json, drops what
// its own scenarios measured before and keeps the rest, saying which run measured what.
import type { BenchResults, Note, ResultRow, RunInfo, TargetCheck } from './report.ts';

/** Rows of a file written before rows carried their scenario: the host-process scenarios. */
export const LEGACY_SOURCE = 'host';
/** Scenarios whose rows had no source tag: all that existed then but the Docker-backed ones. */
const LEGACY_SCENARIOS = new Set(['all', 'origin', 'reference', 'sustained', 'intake']);

function sourceOf(entry: { source?: string }): string {
  return entry.source ?? LEGACY_SOURCE;
}

function noteSource(note: Note): string {
  return typeof note === 'string' ? LEGACY_SOURCE : note.source;
}

/** Whether this run's scenarios measure what `source` holds. */
export function replacedBy(ran: ReadonlySet<string>, source: string): boolean {
  if (source === LEGACY_SOURCE) return [...ran].some((name) => LEGACY_SCENARIOS.has(name));
  return ran.has(source);
}

function earlierRuns(earlier: BenchResults): RunInfo[] {
  if (earlier.runs !== undefined) return earlier.runs;
  const sources = [...new Set([...earlier.rows, ...earlier.targets].map(sourceOf))];
  return [
    {
      sources,
      date: earlier.date,
      commit: earlier.commit,
      durationSeconds: earlier.durationSeconds,
      settings: earlier.settings,
    },
  ];
}

/**
 * `current` (a run of the scenarios in `ran`, its rows tagged with their source) joined with
 * what `earlier` measured of other scenarios. Targets and rows keep the earlier ones first,
 * in their order, then this run's.
 */
export function mergeWithEarlier(
  current: BenchResults,
  earlier: BenchResults | undefined,
  ran: ReadonlySet<string>,
): BenchResults {
  if (earlier === undefined) return current;
  const kept = <T>(entries: readonly T[], source: (entry: T) => string) =>
    entries.filter((entry) => !replacedBy(ran, source(entry)));
  const rows: ResultRow[] = [...kept(earlier.rows, sourceOf), ...current.rows];
  const targets: TargetCheck[] = [...kept(earlier.targets, sourceOf), ...current.targets];
  const notes: Note[] = [...kept(earlier.notes, noteSource), ...current.notes];
  const stillThere = new Set([...rows, ...targets].map(sourceOf));
  const runs = earlierRuns(earlier)
    .map((run) => ({ ...run, sources: run.sources.filter((s) => !replacedBy(ran, s) && stillThere.has(s)) }))
    .filter((run) => run.sources.length > 0);
  const thisRun: RunInfo = {
    sources: [...ran],
    date: current.date,
    commit: current.commit,
    durationSeconds: current.durationSeconds,
    settings: current.settings,
  };
  return { ...current, rows, targets, notes, runs: [thisRun, ...runs] };
}
