// The port between the API's logic and the queue engine: what the API needs from
// BullMQ, as plain data. The BullMQ adapter (bullmq-download-queues.ts) implements it
// over Redis; unit tests implement it in memory. Values read from Redis stay `unknown`
// here: the logic checks them against the common contracts (Redis is a trust boundary).
import type { DownloadIndex, DownloadJobs } from '@flagship/common';
import type { IdempotencyKeys } from './idempotency-keys.ts';

/** What the API does with the downloads' index (@flagship/common download-index.ts). */
export type DownloadIndexPort = Pick<DownloadIndex, 'submitted' | 'finished' | 'forget' | 'read' | 'page'>;

/**
 * One chunk job of a download, as far as the status needs it. A single-job download
 * (shapeOfDownloadJob in @flagship/common) is its own one chunk: its job id is the
 * download id and its progress is a ChunkProgress of chunk 0.
 */
export interface ChunkSnapshot {
  jobId: string;
  /** completed: its result is in `result`; failed: failed for good and ignored by the parent. */
  status: 'completed' | 'failed' | 'pending';
  /** A worker has picked it up at least once. */
  started: boolean;
  /** Return value (ChunkResult), completed chunks only. */
  result?: unknown;
  /** Last progress (ChunkProgress), pending and failed chunks. */
  progress?: unknown;
  /** The chunk's codes (from its job data), failed chunks only. */
  codes?: unknown;
  failedReason?: string;
}

/** A download's job (a flow's parent, or the single job) and, unless it is complete, its chunks. */
export interface DownloadSnapshot {
  id: string;
  /** BullMQ state of the download's job: waiting-children, waiting, active, completed, failed, ... */
  state: string;
  /** Parent job data (DownloadJobData). */
  data: unknown;
  /** When the download was accepted, ms since the epoch. */
  createdAt: number;
  finishedAt?: number;
  /** Parent return value (DownloadSummary), completed only. */
  returnValue?: unknown;
  failedReason?: string;
  chunks: ChunkSnapshot[];
  /** When the download was cancelled (its mark in Redis), ms since the epoch. */
  cancelledAt?: number;
}

/**
 * What a cancel found: `cancelled` (marked now, at `at`), `already` (marked before, at
 * `at`), `finished` (completed or failed first: nothing changed) or `missing`.
 */
export type CancelMark =
  { outcome: 'cancelled' | 'already'; at: number } | { outcome: 'finished' } | { outcome: 'missing' };

/** A position in each queue's event stream: the id of the last entry taken into account. */
export interface StreamPositions {
  downloads: string;
  flags: string;
}

export type StreamName = keyof StreamPositions;

/** One entry of a queue's event stream, as QueueEvents emits it (progress data and return values parsed). */
export interface QueueEventEntry {
  stream: StreamName;
  /** The entry's stream id. */
  id: string;
  /** BullMQ's event name (`progress`, `completed`, …), or the API's `cancelled`. */
  event: string;
  args: Record<string, unknown>;
}

/** A download's entries after given positions, for a reconnecting follower. */
export interface EventReplay {
  /** false: the streams were trimmed past a position, entries may be missing. */
  complete: boolean;
  /** The download's entries (its own job's and its chunks'): `flags` first, then `downloads`, each in order. */
  entries: QueueEventEntry[];
}

/** Anything with EventEmitter's on/off: BullMQ's QueueEvents, or a plain emitter in tests. */
export interface EventSourceLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- listeners of differently typed events
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * The queues' event streams, read only while someone follows a download: `start` when
 * the first follower comes, `stop` when the last one has gone. Listeners stay attached
 * to `downloads` and `flags` across stops and starts.
 */
export interface DownloadEventFeed {
  readonly downloads: EventSourceLike;
  readonly flags: EventSourceLike;
  /**
   * Start reading, if not reading yet. Resolves once every event added to the streams
   * from now on will be delivered (so a snapshot read after it misses nothing);
   * rejects with QueueUnavailableError when Redis does not answer.
   */
  start(): Promise<void>;
  /** Stop reading (nobody follows): no more Redis reads until the next start. Safe twice. */
  stop(): Promise<void>;
  /**
   * Where the feed has read up to in each stream, while reading: the id of the last
   * entry it relayed, or where it started. Every entry relayed from now on is after it.
   * Listeners get each entry's id as their second argument.
   */
  positions(): StreamPositions;
}

export interface DownloadQueues {
  /** The BullMQ key prefix the downloads are added under. */
  readonly prefix: string;
  /** Adds a download: one job with Queue.add, or a flow with FlowProducer.add. */
  addDownload(jobs: DownloadJobs): Promise<void>;
  /** The download's jobs, or undefined when there is no such download. */
  readSnapshot(downloadId: string): Promise<DownloadSnapshot | undefined>;
  /**
   * Cancels a download unless its job has finished: marks it, tells the followers and
   * every worker, removes its chunks that no worker holds (cancel-download.ts).
   */
  cancelDownload(downloadId: string, atMs: number): Promise<CancelMark>;
  /** The download's event entries after `positions` (for Last-Event-ID). */
  readEventsAfter(downloadId: string, positions: StreamPositions): Promise<EventReplay>;
  /** Resolves when Redis answers PING in time; throws QueueUnavailableError otherwise. */
  ping(): Promise<void>;
  /** The event streams of both queues, for the process's one event hub. */
  readonly events: DownloadEventFeed;
  /** The downloads' index: a record per download, the list, tombstones of expired ones. */
  readonly index: DownloadIndexPort;
  /** The Idempotency-Key claims of POST /v1/downloads. */
  readonly idempotencyKeys: IdempotencyKeys;
  /** Closes what the adapter created (not the Redis connections it was given). Safe twice. */
  close(): Promise<void>;
}
