// The handler of a chunk job (queue `flags`): one chunk of a flow download's codes.
// Returns the chunk's outcomes, which its parent reads once every chunk is done. A
// chunk of a cancelled download returns the outcomes decided before the cancel: it
// completes (never retried), and the download's status lists what it saved.
import { Contracts, type ChunkJobData, type ChunkResult } from '@flagship/common';
import type { Logger } from '@flagship/runtime';
import type { Job } from 'bullmq';
import { runChunk, type ChunkRunDeps } from './chunk-run.ts';
import { DownloadCancelledError, parseOrGiveUp, type JobRun } from './job-run.ts';

export interface ChunkJobDeps extends ChunkRunDeps {
  logger: Logger;
}

export async function handleChunkJob(
  job: Job<ChunkJobData, ChunkResult>,
  run: JobRun,
  deps: ChunkJobDeps,
): Promise<ChunkResult> {
  const data = parseOrGiveUp(Contracts.chunkJobData, job.data);
  const log = deps.logger.child({ jobId: job.id, downloadId: data.downloadId, chunk: data.chunk });
  try {
    const outcomes = await runChunk(job, data, { ...run, log }, deps);
    log.debug({ flags: outcomes.length }, 'chunk done');
    return { downloadId: data.downloadId, chunk: data.chunk, outcomes };
  } catch (error) {
    if (!(error instanceof DownloadCancelledError)) throw error;
    log.info({ decided: error.decided.length, of: data.codes.length }, 'chunk stopped: download cancelled');
    return { downloadId: data.downloadId, chunk: data.chunk, outcomes: error.decided };
  }
}
