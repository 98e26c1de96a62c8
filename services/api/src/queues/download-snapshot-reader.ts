// Reading a download's status out of BullMQ: its job, and unless it is complete, its
// chunks (a flow's children, or the single job as its own one chunk), as the plain
// DownloadSnapshot that the status logic reads (download-status.ts). Reads only; the
// adapter (bullmq-download-queues.ts) runs it under its deadline and 503 mapping.
import {
  DownloadShape,
  chunkJobIdOfKey,
  shapeOfDownloadJob,
  type ChunkJobData,
  type ChunkResult,
  type DownloadJobData,
  type DownloadSummary,
} from '@flagship/common';
import type { Job, Queue } from 'bullmq';
import type { ChunkSnapshot, DownloadSnapshot } from './download-queues.ts';

export interface DownloadSnapshotSources {
  /** BullMQ key prefix: the chunks are named by their keys under it. */
  prefix: string;
  downloads: Pick<Queue<DownloadJobData, DownloadSummary>, 'getJobState' | 'getJob'>;
  flags: Pick<Queue<ChunkJobData, ChunkResult>, 'getJob'>;
}

/** The download's jobs as one snapshot, or undefined when there is no such download. */
export async function readDownloadSnapshot(
  sources: DownloadSnapshotSources,
  downloadId: string,
): Promise<DownloadSnapshot | undefined> {
  // The state first, then the job. A job's state only moves forward, so a job read
  // after its state is at least as new as that state. Read the other way round, a
  // download that completed between the two reads looked `completed` without its
  // summary, finish time or any flag done (seen with 50 downloads followed at once).
  const state = await sources.downloads.getJobState(downloadId);
  if (state === 'unknown') return undefined;
  const job = await sources.downloads.getJob(downloadId);
  if (job === undefined || job === null) return undefined;
  const finished = state === 'completed';
  return {
    id: downloadId,
    state,
    data: job.data,
    createdAt: job.timestamp,
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
    ...(finished ? { returnValue: job.returnvalue } : {}),
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    chunks: finished ? [] : await readChunksOf(sources, job, state),
  };
}

async function readChunksOf(sources: DownloadSnapshotSources, job: Job, state: string): Promise<ChunkSnapshot[]> {
  return shapeOfDownloadJob(job.data) === DownloadShape.single ? [ownChunk(job, state)] : readChildren(sources, job);
}

/** A single-job download is its own one chunk: its progress is chunk 0's. */
function ownChunk(job: Job, state: string): ChunkSnapshot {
  const failed = state === 'failed';
  return {
    jobId: job.id ?? '',
    status: failed ? 'failed' : 'pending',
    started: hasStarted(job),
    progress: job.progress,
    ...(failed ? { codes: codesOf(job) } : {}),
    ...(failed && job.failedReason ? { failedReason: job.failedReason } : {}),
  };
}

/** A flow's chunks: finished ones from the parent's dependencies, the others from their own jobs. */
async function readChildren(sources: DownloadSnapshotSources, parent: Job): Promise<ChunkSnapshot[]> {
  const dependencies = await parent.getDependencies();
  const chunkId = (key: string) => chunkJobIdOfKey(sources.prefix, key);
  const chunks: Promise<ChunkSnapshot>[] = [];
  for (const [key, result] of Object.entries(dependencies.processed ?? {})) {
    const jobId = chunkId(key);
    if (jobId !== undefined) chunks.push(Promise.resolve({ jobId, status: 'completed', started: true, result }));
  }
  for (const key of dependencies.unprocessed ?? []) {
    const jobId = chunkId(key);
    if (jobId !== undefined) chunks.push(readChunk(sources, jobId, 'pending'));
  }
  for (const [key, reason] of Object.entries(dependencies.ignored ?? {})) {
    const jobId = chunkId(key);
    if (jobId !== undefined) chunks.push(readChunk(sources, jobId, 'failed', String(reason)));
  }
  return Promise.all(chunks);
}

async function readChunk(
  sources: DownloadSnapshotSources,
  jobId: string,
  status: ChunkSnapshot['status'],
  failedReason?: string,
): Promise<ChunkSnapshot> {
  const job: Job | undefined = await sources.flags.getJob(jobId);
  return {
    jobId,
    status,
    started: job !== undefined && hasStarted(job),
    progress: job?.progress,
    ...(status === 'failed' ? { codes: job === undefined ? undefined : codesOf(job) } : {}),
    ...(failedReason === undefined ? {} : { failedReason }),
  };
}

function hasStarted(job: Job): boolean {
  return job.processedOn !== undefined && job.processedOn !== null;
}

/** The job's codes as Redis holds them, unchecked (the status logic checks them). */
function codesOf(job: Job): unknown {
  return (job.data as { codes?: unknown } | undefined)?.codes;
}
