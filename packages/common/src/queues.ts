// Queue names, job names and Redis connection settings: the wiring contract between
// the API (producer) and the workers (consumers). Types only from ioredis: the CLI and
// the origin import this package and must not load a Redis client; the API's and the
// worker's main.ts create their connections with `createRedisClient(endpoint, role)`
// from `@flagship/common/redis`, which applies these options.
import type { RedisOptions } from 'ioredis';

/**
 * Every key lives under one Redis Cluster hash tag, so a download's parent and child
 * jobs (a BullMQ flow) are in the same slot.
 */
export const QUEUE_PREFIX = '{flagship}';

export const QueueNames = {
  /** Parent jobs: one per download; completes when its chunks have, holds the summary. */
  downloads: 'downloads',
  /** Child jobs: one per chunk of flags. */
  flags: 'flags',
} as const;

export type QueueName = (typeof QueueNames)[keyof typeof QueueNames];

export const JobNames = {
  download: 'download',
  chunk: 'chunk',
} as const;

/** Job id of a download's chunk: the download id, so events can be routed by prefix. */
export function chunkJobId(downloadId: string, chunk: number): string {
  return `${downloadId}-c${chunk}`;
}

export function downloadIdOfChunkJob(jobId: string): string | undefined {
  const match = /^(.+)-c\d+$/.exec(jobId);
  return match?.[1];
}

/**
 * BullMQ's Redis key of a job, `{prefix}:{queue}:{jobId}`: how a parent job names its
 * children (getDependencies, getChildrenValues, getIgnoredChildrenFailures).
 */
export function jobKey(prefix: string, queueName: QueueName, jobId: string): string {
  return `${prefix}:${queueName}:${jobId}`;
}

/** The chunk job id in a child's key (see jobKey), or undefined for another queue's or prefix's key. */
export function chunkJobIdOfKey(prefix: string, key: string): string | undefined {
  const chunkKeyPrefix = jobKey(prefix, QueueNames.flags, '');
  return key.startsWith(chunkKeyPrefix) ? key.slice(chunkKeyPrefix.length) : undefined;
}

export type RedisRole = 'producer' | 'worker' | 'events';

/**
 * ioredis options for one connection role, after bullmq's "going to production" guide:
 * producers fail fast while Redis is away (an HTTP request gets a 503, not a hang);
 * workers and event listeners wait and reconnect forever.
 */
export function redisOptions(role: RedisRole): RedisOptions {
  const common = { connectionName: `flagship-${role}` };
  if (role === 'producer') {
    return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
  }
  return {
    ...common,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * 2 ** times, 5_000),
  };
}
