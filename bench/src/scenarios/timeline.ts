// Where one download's time goes on the compose stack, from clocks that agree (every
// container shares the host's clock): the client's POST, BullMQ's own job timestamps in
// Redis (added, taken by a worker, finished), nginx's log of the worker's requests to the
// origin, and the client's `completed` event. All as milliseconds after the POST was sent.
import {
  DEFAULT_CHUNK_SIZE,
  DownloadShape,
  QUEUE_PREFIX,
  QueueNames,
  chunkJobId,
  downloadShape,
  jobKey,
} from '@flagship/common';
import type { Redis } from 'ioredis';
import type { LoggedRequest } from '../nginx.ts';

export interface JobTimes {
  /** The API added the download's job (BullMQ `timestamp`). */
  addedAtMs: number;
  /** A worker took the download's first job (the single job, or its earliest chunk). */
  firstStartAtMs: number;
  /** The download's job (single job, or the flow's parent) finished. */
  finishedAtMs: number;
}

export interface Timeline {
  jobAdded: number;
  firstJobStarted: number;
  firstOriginRequest: number;
  lastOriginResponse: number;
  downloadFinished: number;
  completedAtClient: number;
}

/** In order, with the words of the RESULTS.md rows. */
export const TIMELINE_STEPS: readonly { key: keyof Timeline; label: string }[] = [
  { key: 'jobAdded', label: 'job in Redis (BullMQ timestamp)' },
  { key: 'firstJobStarted', label: 'first job taken by a worker (processedOn)' },
  { key: 'firstOriginRequest', label: "worker's first origin request (nginx log)" },
  { key: 'lastOriginResponse', label: 'last origin response sent (nginx log)' },
  { key: 'downloadFinished', label: 'download job finished (finishedOn)' },
  { key: 'completedAtClient', label: '`completed` event at the client' },
];

function epochField(value: string | null, what: string): number {
  const ms = Number(value);
  if (value === null || !Number.isFinite(ms) || ms <= 0) throw new Error(`job timeline: no ${what} (${value})`);
  return ms;
}

/** BullMQ's timestamps of a finished download, read from its job hashes. */
export async function readJobTimes(redis: Redis, downloadId: string, codeCount: number): Promise<JobTimes> {
  const [added, processed, finished] = await redis.hmget(
    jobKey(QUEUE_PREFIX, QueueNames.downloads, downloadId),
    'timestamp',
    'processedOn',
    'finishedOn',
  );
  let firstStartAtMs: number;
  if (downloadShape(codeCount) === DownloadShape.single) firstStartAtMs = epochField(processed ?? null, 'processedOn');
  else {
    const chunks = Math.ceil(codeCount / DEFAULT_CHUNK_SIZE);
    const starts = await Promise.all(
      Array.from({ length: chunks }, (_, n) =>
        redis.hget(jobKey(QUEUE_PREFIX, QueueNames.flags, chunkJobId(downloadId, n)), 'processedOn'),
      ),
    );
    firstStartAtMs = Math.min(...starts.map((start) => epochField(start, 'chunk processedOn')));
  }
  return {
    addedAtMs: epochField(added ?? null, 'timestamp'),
    firstStartAtMs,
    finishedAtMs: epochField(finished ?? null, 'finishedOn'),
  };
}

/** The timeline of one download; `requests` are the origin requests logged during it. */
export function timeline(
  postAtMs: number,
  seconds: number,
  job: JobTimes,
  requests: readonly LoggedRequest[],
): Timeline {
  if (requests.length === 0) throw new Error('job timeline: nginx logged no origin request for this download');
  const firstRequest = Math.min(...requests.map((r) => r.startMs));
  const lastResponse = Math.max(...requests.map((r) => r.endMs));
  return {
    jobAdded: job.addedAtMs - postAtMs,
    firstJobStarted: job.firstStartAtMs - postAtMs,
    firstOriginRequest: firstRequest - postAtMs,
    lastOriginResponse: lastResponse - postAtMs,
    downloadFinished: job.finishedAtMs - postAtMs,
    completedAtClient: seconds * 1000,
  };
}
