// The handler of a download job (queue `downloads`), whichever shape the download has
// (shapeOfDownloadJob): a single job downloads its codes itself, as chunk 0, and returns
// the summary; a flow's parent runs once every chunk is done and merges their results,
// and what the chunks that failed for good had reported, into the summary. The job of
// a cancelled download fails for good with DOWNLOAD_CANCELLED_REASON: a single job
// stops its flags (runChunk), a flow's parent gives up at once when it runs.
import {
  Contracts,
  DOWNLOAD_CANCELLED_REASON,
  DownloadShape,
  chunkJobIdOfKey,
  shapeOfDownloadJob,
  singleJobChunk,
  summarize,
  type DownloadJobData,
  type DownloadSummary,
} from '@flagship/common';
import type { Logger } from '@flagship/runtime';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { finishDownload, type FailedChunk } from '../downloads/finish-download.ts';
import type { DownloadIndexWriter } from '../downloads/index-writer.ts';
import { previousOutcomes, runChunk, type ChunkRunDeps } from './chunk-run.ts';
import { parseOrGiveUp, type JobRun, type LoggedJobRun } from './job-run.ts';

export interface DownloadJobDeps extends ChunkRunDeps {
  logger: Logger;
  /** BullMQ key prefix: a parent names its failed children by their keys under it. */
  prefix: string;
  /** Reads a chunk job (queue `flags`) back, to learn a failed chunk's codes and saved flags. */
  readChunkJob: (jobId: string) => Promise<Job | undefined>;
  /** Told the download's summary before the job returns it (GET /v1/downloads). */
  downloadIndex?: Pick<DownloadIndexWriter, 'chunkStarted' | 'completed'>;
}

export async function handleDownloadJob(
  job: Job<DownloadJobData, DownloadSummary>,
  run: JobRun,
  deps: DownloadJobDeps,
): Promise<DownloadSummary> {
  const data = parseOrGiveUp(Contracts.downloadJobData, job.data);
  const log = deps.logger.child({ jobId: job.id, downloadId: job.id ?? '' });
  const single = shapeOfDownloadJob(data) === DownloadShape.single;
  if (!single && (await run.cancellation?.isCancelled())) throw new UnrecoverableError(DOWNLOAD_CANCELLED_REASON);
  const summary = single
    ? await runSingleJobDownload(job, data, { ...run, log }, deps)
    : await finishFlowDownload(job, data, log, deps);
  log.info({ saved: summary.saved, notFound: summary.notFound, failed: summary.failed }, summary.message);
  await deps.downloadIndex?.completed(job, summary);
  return summary;
}

/**
 * A download that is one job: its codes are its chunk 0. On its last attempt a
 * failure still completes the download, its undecided flags ERROR with the reason,
 * as a flow's parent reports a chunk that failed for good.
 */
async function runSingleJobDownload(
  job: Job<DownloadJobData, DownloadSummary>,
  data: DownloadJobData,
  run: LoggedJobRun,
  deps: ChunkRunDeps,
): Promise<DownloadSummary> {
  const downloadId = job.id ?? '';
  const chunk = singleJobChunk(downloadId, data.codes);
  let decided = previousOutcomes(job.progress, chunk);
  try {
    const outcomes = await runChunk(job, chunk, { ...run, onDecided: (outcomes) => (decided = outcomes) }, deps);
    return summarize(data.codes, outcomes, elapsedSecondsOf(job));
  } catch (error) {
    if (error instanceof WaitingError || error instanceof UnrecoverableError || !isLastAttempt(job)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    run.log.warn({ err: error, attemptsMade: job.attemptsMade }, 'download failed on its last attempt');
    return finishDownload({
      downloadId,
      codes: data.codes,
      childrenValues: {},
      failedChunks: [{ key: downloadId, reason, codes: data.codes, decided }],
      elapsedSeconds: elapsedSecondsOf(job),
    });
  }
}

/** A flow's parent, run once its chunks are done (or failed for good). */
async function finishFlowDownload(
  job: Job<DownloadJobData, DownloadSummary>,
  data: DownloadJobData,
  log: Logger,
  deps: DownloadJobDeps,
): Promise<DownloadSummary> {
  const [childrenValues, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
  const failedChunks = await Promise.all(
    Object.entries(failures).map(([key, reason]) => readFailedChunk(key, reason, deps)),
  );
  return finishDownload({
    downloadId: job.id ?? '',
    codes: data.codes,
    childrenValues,
    failedChunks,
    elapsedSeconds: elapsedSecondsOf(job),
    onInvalidResult: (key, reason) => log.warn({ key, reason }, 'ignored an invalid chunk result'),
  });
}

async function readFailedChunk(key: string, reason: string, deps: DownloadJobDeps): Promise<FailedChunk> {
  const jobId = chunkJobIdOfKey(deps.prefix, key);
  if (jobId === undefined) return { key, reason };
  const job = await deps.readChunkJob(jobId);
  if (job === undefined || !Contracts.chunkJobData.check(job.data)) return { key, reason };
  return { key, reason, codes: job.data.codes, decided: previousOutcomes(job.progress, job.data) };
}

/** From the API accepting the request (the job's creation) to now. */
function elapsedSecondsOf(job: Job): number {
  return (Date.now() - job.timestamp) / 1000;
}

/** This attempt is the job's last: a failure now fails it for good. */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
