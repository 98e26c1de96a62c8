// Sample job data for status and event tests.
import type { ChunkProgress, ChunkResult, DownloadSummary, FlagOutcome } from '@flagship/common';
import type { DownloadSnapshot } from '../queues/download-queues.ts';

export const DOWNLOAD_ID = '3b241101-e2bb-4255-8caf-4136c566a962';
export const CREATED_AT = Date.parse('2026-01-01T00:00:00Z');

export function ok(code: string, country = `Country ${code}`): FlagOutcome {
  return { code, status: 'OK', country, file: `${code}_${country.replaceAll(' ', '_')}.gif`, bytes: 100, attempts: 1 };
}
export function notFound(code: string): FlagOutcome {
  return { code, status: 'NOT_FOUND', reason: 'origin answered 404', attempts: 1 };
}

export function progress(chunk: number, outcomes: FlagOutcome[], total = 2): ChunkProgress {
  return { downloadId: DOWNLOAD_ID, chunk, total, outcomes };
}
export function result(chunk: number, outcomes: FlagOutcome[]): ChunkResult {
  return { downloadId: DOWNLOAD_ID, chunk, outcomes };
}

export function summary(outcomes: FlagOutcome[], elapsedSeconds = 0.04): DownloadSummary {
  const saved = outcomes.filter((o) => o.status === 'OK').length;
  const notFoundCount = outcomes.filter((o) => o.status === 'NOT_FOUND').length;
  return {
    total: outcomes.length,
    saved,
    notFound: notFoundCount,
    failed: outcomes.length - saved - notFoundCount,
    elapsedSeconds,
    files: outcomes.flatMap((o) => (o.file ? [o.file] : [])),
    outcomes,
    message: `${saved} flags downloaded in ${elapsedSeconds.toFixed(2)}s`,
  };
}

export function snapshot(overrides: Partial<DownloadSnapshot> = {}): DownloadSnapshot {
  return {
    id: DOWNLOAD_ID,
    state: 'waiting-children',
    data: { codes: ['BR', 'CN', 'IN', 'US'] },
    createdAt: CREATED_AT,
    chunks: [
      { jobId: `${DOWNLOAD_ID}-c0`, status: 'pending', started: false },
      { jobId: `${DOWNLOAD_ID}-c1`, status: 'pending', started: false },
    ],
    ...overrides,
  };
}

/** A completed download of these outcomes' codes, with their summary. */
export function completedSnapshot(outcomes: FlagOutcome[]): DownloadSnapshot {
  return snapshot({
    state: 'completed',
    data: { codes: outcomes.map((outcome) => outcome.code) },
    returnValue: summary(outcomes),
    chunks: [],
  });
}
