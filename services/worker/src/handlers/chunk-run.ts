// The flags of one chunk inside whichever job carries them: a chunk job (queue `flags`)
// or a single-job download (queue `downloads`, its codes as chunk 0). Both resume from
// the job's progress, report progress on the job, and, on a shutdown past the grace
// period, go back to `wait` without spending an attempt; the next worker skips the
// flags already decided. A cancelled download stops the chunk: no flag starts, running
// requests are aborted, and it ends with a DownloadCancelledError carrying what was
// decided. The cancel arrives as an abort (CANCELLED); the mark in Redis is checked
// too, when the chunk starts and at each progress report, for a message that was missed.
import { Contracts, type ChunkJobData, type ChunkProgress, type FlagOutcome } from '@flagship/common';
import { WaitingError, type Job } from 'bullmq';
import type { DownloadIndexWriter } from '../downloads/index-writer.ts';
import { processChunk } from '../flags/process-chunk.ts';
import { DownloadCancelledError, HAND_BACK, wasCancelled, type LoggedJobRun } from './job-run.ts';

export interface ChunkRunDeps {
  /** Flags downloaded at once inside one chunk. */
  flagConcurrency: number;
  /** Downloads one flag (downloadFlag with the origin, pool and store bound). */
  downloadOne: (code: string, signal: AbortSignal) => Promise<FlagOutcome>;
  /** Least time between two progress reports of a chunk. Default processChunk's (100 ms). */
  progressIntervalMs?: number;
  /** Told when a chunk starts and what it decided at each report (GET /v1/downloads). */
  downloadIndex?: Pick<DownloadIndexWriter, 'chunkStarted'>;
}

export interface ChunkRun extends LoggedJobRun {
  /** Told every outcome decided so far, at each progress report. */
  onDecided?: (decided: FlagOutcome[]) => void;
}

/** The chunk's outcomes in the order of its codes. */
export async function runChunk(
  job: Job,
  data: ChunkJobData,
  run: ChunkRun,
  deps: ChunkRunDeps,
): Promise<FlagOutcome[]> {
  const previous = previousOutcomes(job.progress, data);
  if (await run.cancellation?.isCancelled()) throw new DownloadCancelledError(previous);
  if (previous.length > 0) run.log.info({ decided: previous.length }, 'resuming chunk');
  const countDecided = deps.downloadIndex?.chunkStarted(data.downloadId, previous);
  let decided = previous;
  try {
    const outcomes = await processChunk({
      codes: data.codes,
      concurrency: deps.flagConcurrency,
      previous,
      downloadOne: deps.downloadOne,
      onProgress: async (outcomes) => {
        decided = outcomes;
        run.onDecided?.(outcomes);
        countDecided?.(outcomes);
        const [, cancelled] = await Promise.all([
          job.updateProgress(chunkProgress(data, outcomes)),
          run.cancellation?.isCancelled(),
        ]);
        if (cancelled === true) run.cancellation?.cancel();
      },
      onProgressError: (err) => run.log.warn({ err }, 'progress report failed'),
      progressIntervalMs: deps.progressIntervalMs,
      signal: run.signal,
    });
    // A chunk that succeeds sends no last progress report: what it would have told goes here.
    run.onDecided?.(outcomes);
    countDecided?.(outcomes);
    return outcomes;
  } catch (error) {
    if (run.signal.aborted && run.signal.reason === HAND_BACK) {
      // Back to `wait` without spending an attempt; the next worker skips what is done.
      await job.moveToWait(run.token);
      run.log.info('chunk handed back to the queue');
      throw new WaitingError();
    }
    if (wasCancelled(run)) throw new DownloadCancelledError(decided);
    throw error;
  }
}

/** What an earlier attempt of this chunk reported, if its progress is this chunk's. */
export function previousOutcomes(progress: unknown, data: ChunkJobData): FlagOutcome[] {
  if (!Contracts.chunkProgress.check(progress)) return [];
  if (progress.downloadId !== data.downloadId || progress.chunk !== data.chunk) return [];
  return progress.outcomes;
}

function chunkProgress(data: ChunkJobData, outcomes: FlagOutcome[]): ChunkProgress {
  return { downloadId: data.downloadId, chunk: data.chunk, total: data.codes.length, outcomes };
}
