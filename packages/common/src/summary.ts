// Turning per-flag outcomes into the reference program's report. Used by the worker
// that completes a download, and by the API and CLI for downloads still running.
import type { DownloadSummary, FlagOutcome } from './contracts.ts';

export interface OutcomeCounts {
  saved: number;
  notFound: number;
  failed: number;
}

export function countOutcomes(outcomes: Iterable<FlagOutcome>): OutcomeCounts {
  const counts = { saved: 0, notFound: 0, failed: 0 };
  for (const outcome of outcomes) {
    if (outcome.status === 'OK') counts.saved++;
    else if (outcome.status === 'NOT_FOUND') counts.notFound++;
    else counts.failed++;
  }
  return counts;
}

/**
 * "20 flags downloaded in 0.04s", as the reference prints it, with the flags not saved
 * added only when there are some: "18 flags downloaded in 0.05s (1 not found, 1 failed)".
 */
export function reportLine(counts: OutcomeCounts, elapsedSeconds: number): string {
  const line = `${counts.saved} flag${counts.saved === 1 ? '' : 's'} downloaded in ${elapsedSeconds.toFixed(2)}s`;
  const extras = [
    counts.notFound > 0 ? `${counts.notFound} not found` : '',
    counts.failed > 0 ? `${counts.failed} failed` : '',
  ].filter(Boolean);
  return extras.length > 0 ? `${line} (${extras.join(', ')})` : line;
}

/** The summary of a finished download, outcomes in the order the codes were requested. */
export function summarize(
  codes: readonly string[],
  outcomes: readonly FlagOutcome[],
  elapsedSeconds: number,
): DownloadSummary {
  const byCode = new Map(outcomes.map((outcome) => [outcome.code, outcome]));
  const ordered = codes.map(
    (code): FlagOutcome =>
      byCode.get(code) ?? { code, status: 'ERROR', reason: 'no outcome was reported for this flag', attempts: 0 },
  );
  const counts = countOutcomes(ordered);
  return {
    total: codes.length,
    ...counts,
    elapsedSeconds,
    files: ordered.flatMap((outcome) => (outcome.file === undefined ? [] : [outcome.file])),
    outcomes: ordered,
    message: reportLine(counts, elapsedSeconds),
  };
}
