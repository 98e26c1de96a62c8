// The shape of one download in BullMQ. A download that fits one chunk is ONE job in the
// `downloads` queue whose data says it carries its own codes (`inline`): the download
// worker downloads them and returns the summary, with no parent/child bookkeeping (one
// `Queue.add`, no flow). A larger download is a flow: one parent job (queue
// `downloads`) and one child job per chunk of codes (queue `flags`). Chunks of ~25 flags
// keep Redis work per flag low while still spreading a download over every worker that
// is up (measured in docs/decisions.md); the parent completes when its
// children have and holds the summary. The rule is decided here (downloadShape), read
// back here (shapeOfDownloadJob, singleJobChunk), and nowhere else.
import type { FlowJob, JobsOptions } from 'bullmq';
import type { ChunkJobData, DownloadJobData } from './contracts.ts';
import { DEFAULT_RETENTION, type Retention } from './download-index.ts';
import { JobNames, QUEUE_PREFIX, QueueNames, chunkJobId } from './queues.ts';

export const DEFAULT_CHUNK_SIZE = 25;

export interface DownloadFlowOptions {
  /** BullMQ key prefix. Default QUEUE_PREFIX; tests give each test its own. */
  prefix?: string;
  /** Flags per child job; a download of at most this many codes is one job. Default 25. */
  chunkSize?: number;
  /** Attempts of a chunk job, or of a single-job download (crashes, stalls, store errors; flags retry on their own). Default 3. */
  chunkAttempts?: number;
  /** First retry delay of a chunk job, doubled each time. Default 1000 ms. */
  chunkBackoffMs?: number;
  /** How long a finished download stays inspectable. Default 24 h (DEFAULT_RETENTION). */
  retentionSeconds?: number;
  /** How many finished downloads are kept at most. Default 10,000 (DEFAULT_RETENTION). */
  retentionCount?: number;
  /** When the download was accepted (ms): its job's timestamp, as the index records it. Default now. */
  createdAt?: number;
  /** The download this one retries, carried in its job data (DownloadJobData.retryOf). */
  retryOf?: string;
}

export function splitIntoChunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** The two shapes of a download in BullMQ. */
export const DownloadShape = {
  /** One `downloads` job with `inline: true`: it downloads its own codes. */
  single: 'single',
  /** A parent `downloads` job with one `flags` child per chunk. */
  flow: 'flow',
} as const;
export type DownloadShape = (typeof DownloadShape)[keyof typeof DownloadShape];

/** What to add for one download: a plain job (`Queue.add`) or a flow (`FlowProducer.add`). */
export type DownloadJobs =
  | {
      shape: typeof DownloadShape.single;
      queueName: typeof QueueNames.downloads;
      prefix: string;
      name: typeof JobNames.download;
      data: DownloadJobData & { inline: true };
      opts: JobsOptions;
    }
  | { shape: typeof DownloadShape.flow; flow: FlowJob };

/** A download that fits one chunk is one job; anything larger is a flow of chunks. */
export function downloadShape(codeCount: number, chunkSize: number = DEFAULT_CHUNK_SIZE): DownloadShape {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
  }
  return codeCount <= chunkSize ? DownloadShape.single : DownloadShape.flow;
}

/**
 * The shape of a download from its job's data, as the worker runs it and the API reads
 * its status: `inline: true` marks the single job; anything else is a flow's parent.
 * Takes data as read from Redis, unchecked: the API only reads it for the status.
 */
export function shapeOfDownloadJob(data: unknown): DownloadShape {
  const inline = (data as { inline?: unknown } | null | undefined)?.inline;
  return inline === true ? DownloadShape.single : DownloadShape.flow;
}

/**
 * The one chunk a single-job download carries: all its codes, as chunk 0 of the
 * download itself (whose job id is the download id). Its progress is a ChunkProgress of
 * this chunk, so it resumes, reports and reads like a chunk job.
 */
export function singleJobChunk(downloadId: string, codes: readonly string[]): ChunkJobData {
  return { downloadId, chunk: 0, codes: [...codes] };
}

function retentionOf(options: DownloadFlowOptions): { age: number; count: number } {
  return {
    age: options.retentionSeconds ?? DEFAULT_RETENTION.ageSeconds,
    count: options.retentionCount ?? DEFAULT_RETENTION.count,
  };
}

/**
 * The retention a download's job was added with (its removeOnComplete, as retentionOf
 * set it), read back by the worker that finishes it, so the index keeps what BullMQ
 * keeps whatever the worker's own settings; undefined for a job added otherwise.
 */
export function retentionOfJob(opts: Pick<JobsOptions, 'removeOnComplete'> | undefined): Retention | undefined {
  const keep = opts?.removeOnComplete;
  if (typeof keep !== 'object' || keep === null) return undefined;
  const { age, count } = keep as { age?: unknown; count?: unknown };
  if (typeof age !== 'number' || typeof count !== 'number') return undefined;
  return { ageSeconds: age, count };
}

/** The download job's own data and options, whatever its shape: codes, retryOf, id, timestamp, retention. */
function downloadJobParts(downloadId: string, codes: readonly string[], options: DownloadFlowOptions) {
  const retention = retentionOf(options);
  const data: DownloadJobData = { codes: [...codes], ...(options.retryOf ? { retryOf: options.retryOf } : {}) };
  const opts: JobsOptions = {
    jobId: downloadId,
    ...(options.createdAt === undefined ? {} : { timestamp: options.createdAt }),
    removeOnComplete: retention,
    removeOnFail: retention,
  };
  return { data, opts, retention };
}

/**
 * The jobs of one download, in the shape its size calls for. The single job takes the
 * chunk's attempts and backoff (it does a chunk's work) and the download's id and
 * retention (it is the download).
 */
export function buildDownloadJobs(
  downloadId: string,
  codes: readonly string[],
  options: DownloadFlowOptions = {},
): DownloadJobs {
  if (downloadShape(codes.length, options.chunkSize ?? DEFAULT_CHUNK_SIZE) === DownloadShape.flow) {
    return { shape: DownloadShape.flow, flow: buildDownloadFlow(downloadId, codes, options) };
  }
  const own = downloadJobParts(downloadId, codes, options);
  return {
    shape: DownloadShape.single,
    queueName: QueueNames.downloads,
    prefix: options.prefix ?? QUEUE_PREFIX,
    name: JobNames.download,
    data: { ...own.data, inline: true },
    opts: {
      ...own.opts,
      attempts: options.chunkAttempts ?? 3,
      backoff: { type: 'exponential', delay: options.chunkBackoffMs ?? 1_000 },
    },
  };
}

/** The flow shape whatever the size: a parent and one child per chunk. */
export function buildDownloadFlow(
  downloadId: string,
  codes: readonly string[],
  options: DownloadFlowOptions = {},
): FlowJob {
  const own = downloadJobParts(downloadId, codes, options);
  const childOptions: JobsOptions = {
    attempts: options.chunkAttempts ?? 3,
    backoff: { type: 'exponential', delay: options.chunkBackoffMs ?? 1_000 },
    // A chunk's result lives on in its parent (getChildrenValues), so the child can go.
    removeOnComplete: { age: 3600, count: 1_000 },
    removeOnFail: own.retention,
    // A chunk that fails for good must not leave its download waiting forever: the
    // parent still completes and reports that chunk's flags as failed.
    ignoreDependencyOnFailure: true,
  };
  const prefix = options.prefix ?? QUEUE_PREFIX;
  return {
    name: JobNames.download,
    queueName: QueueNames.downloads,
    prefix,
    data: own.data,
    opts: { ...own.opts, attempts: 3, backoff: { type: 'exponential', delay: 1_000 } },
    children: splitIntoChunks(codes, options.chunkSize ?? DEFAULT_CHUNK_SIZE).map((chunkCodes, chunk) => {
      const data: ChunkJobData = { downloadId, chunk, codes: chunkCodes };
      return {
        name: JobNames.chunk,
        queueName: QueueNames.flags,
        prefix,
        data,
        opts: { ...childOptions, jobId: chunkJobId(downloadId, chunk) },
      };
    }),
  };
}
