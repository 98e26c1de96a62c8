// A download's status for GET /v1/downloads/:id and the first SSE event: state, counts
// and per-flag outcomes. Complete downloads are read from their job's summary; running
// ones from the finished chunks' results plus the running chunks' cumulative progress
// (a single-job download is its own one chunk). A cancelled download reads like a
// running one stopped at the cancel: the outcomes decided so far, `cancelled`.
// Its shape, DownloadStatus, is the public API's (@flagship/common).
// Pure: it reads a snapshot, so it is tested with fake job data.
import {
  Contracts,
  DOWNLOAD_CANCELLED_REASON,
  countOutcomes,
  reportLine,
  type DownloadLinks,
  type DownloadState,
  type DownloadStatus,
  type DownloadSummary,
  type FlagOutcome,
} from '@flagship/common';
import type { DownloadQueues, DownloadSnapshot } from '../queues/download-queues.ts';
import { missingDownloadError } from './missing-download.ts';

export function downloadLinks(downloadId: string): DownloadLinks {
  const self = `/v1/downloads/${downloadId}`;
  return { self, events: `${self}/events` };
}

function requestedCodes(snapshot: DownloadSnapshot): string[] {
  return Contracts.downloadJobData.check(snapshot.data) ? snapshot.data.codes : [];
}

/** The download this one retries, from its job data. */
function retryOfPart(snapshot: DownloadSnapshot): { retryOf?: string } {
  return Contracts.downloadJobData.check(snapshot.data) && snapshot.data.retryOf !== undefined
    ? { retryOf: snapshot.data.retryOf }
    : {};
}

/** Outcomes known so far, one per code, from the chunks' results and progress. */
export function outcomesFromChunks(snapshot: DownloadSnapshot): Map<string, FlagOutcome> {
  const byCode = new Map<string, FlagOutcome>();
  const add = (outcomes: readonly FlagOutcome[]) => outcomes.forEach((o) => byCode.set(o.code, o));
  for (const chunk of snapshot.chunks) {
    if (chunk.status === 'completed' && Contracts.chunkResult.check(chunk.result)) add(chunk.result.outcomes);
    else if (Contracts.chunkProgress.check(chunk.progress)) add(chunk.progress.outcomes);
    if (chunk.status === 'failed' && Array.isArray(chunk.codes)) {
      for (const code of chunk.codes) {
        if (typeof code === 'string' && !byCode.has(code)) {
          byCode.set(code, { code, status: 'ERROR', reason: chunk.failedReason ?? 'chunk job failed', attempts: 0 });
        }
      }
    }
  }
  return byCode;
}

/** BullMQ states of a download's job before any work: a flow's parent, or a single job not yet taken. */
const NOT_STARTED_STATES = new Set(['waiting-children', 'waiting', 'prioritized']);

function stateOf(snapshot: DownloadSnapshot, outcomes: number): DownloadState {
  if (snapshot.state === 'completed') return 'completed';
  if (snapshot.state === 'failed') return 'failed';
  const started = outcomes > 0 || snapshot.chunks.some((chunk) => chunk.started || chunk.status !== 'pending');
  return NOT_STARTED_STATES.has(snapshot.state) && !started ? 'queued' : 'running';
}

function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function fromSummary(snapshot: DownloadSnapshot, summary: DownloadSummary): DownloadStatus {
  return {
    id: snapshot.id,
    state: 'completed',
    total: summary.total,
    done: summary.outcomes.length,
    saved: summary.saved,
    notFound: summary.notFound,
    failed: summary.failed,
    elapsedSeconds: summary.elapsedSeconds,
    createdAt: new Date(snapshot.createdAt).toISOString(),
    ...(snapshot.finishedAt === undefined ? {} : { finishedAt: isoTime(snapshot.finishedAt) }),
    message: summary.message,
    ...retryOfPart(snapshot),
    files: summary.files,
    outcomes: summary.outcomes,
    links: downloadLinks(snapshot.id),
  };
}

/**
 * When the download was cancelled: its mark, or, once the mark has expired, its job
 * having failed for good because of the cancel.
 */
function cancelledAtOf(snapshot: DownloadSnapshot): number | undefined {
  if (snapshot.cancelledAt !== undefined) return snapshot.cancelledAt;
  if (snapshot.state === 'failed' && snapshot.failedReason === DOWNLOAD_CANCELLED_REASON) {
    return snapshot.finishedAt ?? snapshot.createdAt;
  }
  return undefined;
}

/**
 * A cancelled download stays cancelled whatever its job did after the cancel: failed
 * for good by it (the usual end), or completed anyway (its last flag was decided as the
 * cancel came; the counts are then the summary's). finishedAt is the cancel's time.
 */
function cancelledStatus(snapshot: DownloadSnapshot, cancelledAt: number): DownloadStatus {
  const stopped =
    snapshot.state === 'completed' && Contracts.downloadSummary.check(snapshot.returnValue)
      ? fromSummary(snapshot, snapshot.returnValue)
      : toDownloadStatus(
          {
            ...snapshot,
            state: 'active',
            cancelledAt: undefined,
            // The single job failed by the cancel is no failed chunk: its undecided flags stay undecided.
            chunks: snapshot.chunks.map((chunk) =>
              chunk.status === 'failed' && chunk.failedReason === DOWNLOAD_CANCELLED_REASON
                ? { ...chunk, status: 'pending' }
                : chunk,
            ),
          },
          Math.max(cancelledAt, snapshot.createdAt),
        );
  const { failedReason: _failedReason, ...status } = stopped;
  return {
    ...status,
    state: 'cancelled',
    finishedAt: new Date(cancelledAt).toISOString(),
    message: `cancelled: ${reportLine(status, status.elapsedSeconds)}`,
  };
}

export function toDownloadStatus(snapshot: DownloadSnapshot, nowMs: number): DownloadStatus {
  const cancelledAt = cancelledAtOf(snapshot);
  if (cancelledAt !== undefined) return cancelledStatus(snapshot, cancelledAt);
  if (snapshot.state === 'completed' && Contracts.downloadSummary.check(snapshot.returnValue)) {
    return fromSummary(snapshot, snapshot.returnValue);
  }
  const codes = requestedCodes(snapshot);
  const byCode = outcomesFromChunks(snapshot);
  const outcomes = codes.flatMap((code) => byCode.get(code) ?? []);
  const counts = countOutcomes(outcomes);
  const state = stateOf(snapshot, outcomes.length);
  const finished = state === 'completed' || state === 'failed';
  const endMs = finished ? (snapshot.finishedAt ?? nowMs) : nowMs;
  const elapsedSeconds = Math.max(0, (endMs - snapshot.createdAt) / 1000);
  // BullMQ's failedReason of the download's job, sent as it is for clients to show.
  const failedReason = state === 'failed' ? (snapshot.failedReason ?? 'unknown reason') : undefined;
  const message =
    failedReason !== undefined
      ? `download failed: ${failedReason}`
      : state === 'completed'
        ? reportLine(counts, elapsedSeconds)
        : undefined;
  return {
    id: snapshot.id,
    state,
    total: codes.length,
    done: outcomes.length,
    ...counts,
    elapsedSeconds,
    createdAt: new Date(snapshot.createdAt).toISOString(),
    ...(finished && snapshot.finishedAt !== undefined ? { finishedAt: isoTime(snapshot.finishedAt) } : {}),
    ...(message === undefined ? {} : { message }),
    ...retryOfPart(snapshot),
    ...(failedReason === undefined ? {} : { failedReason }),
    files: outcomes.flatMap((o) => (o.file === undefined ? [] : [o.file])),
    outcomes,
    links: downloadLinks(snapshot.id),
  };
}

export interface DownloadStatusDeps {
  queues: Pick<DownloadQueues, 'readSnapshot' | 'index'>;
  now?: () => number;
}

export async function getDownloadStatus(downloadId: string, deps: DownloadStatusDeps): Promise<DownloadStatus> {
  const snapshot = await deps.queues.readSnapshot(downloadId);
  if (snapshot === undefined) throw await missingDownloadError(downloadId, deps.queues.index);
  return toDownloadStatus(snapshot, (deps.now ?? Date.now)());
}
