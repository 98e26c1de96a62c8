// The worker's configuration: every environment variable it reads, with its default,
// bounds and meaning, validated once at start by main.ts. A bad value stops the start
// with a ConfigError that names the variable. The rest of the worker sees camelCase
// settings, never the variables' names: only this file knows them.
import { loadEnv, serviceConfig, serviceEnvSchema, type ServiceConfig } from '@flagship/common';
import { Type, type Static } from 'typebox';
import type { OriginDispatcherOptions } from './flags/origin-dispatcher.ts';

const MiB = 1024 * 1024;

/**
 * Time beyond SHUTDOWN_TIMEOUT_MS for handing jobs back and closing connections; main.ts
 * forces the exit one more margin later. Kubernetes' terminationGracePeriodSeconds for
 * the worker must exceed both (deploy/kubernetes/base/worker.yaml).
 */
export const SHUTDOWN_CLOSE_MARGIN_MS = 10_000;

const integer = (defaultValue: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: defaultValue, minimum, maximum, description });

export const WorkerEnvSchema = Type.Object({
  // REDIS_*, STORE and S3_*, LOG_LEVEL, METRICS_ENABLED and OTEL_*: the same as the API's.
  ...serviceEnvSchema('flagship-worker'),
  ORIGIN_URL: Type.String({
    default: 'http://localhost:8080/data/flags',
    pattern: '^https?://[^\\s]+$',
    description: "Flags origin, like the reference's BASE_URL: {ORIGIN_URL}/{cc}/{cc}.gif and /{cc}/metadata.json",
  }),
  DOWNLOADS_DIR: Type.String({
    default: './downloads',
    minLength: 1,
    description: 'Folder where flags are saved (STORE=fs)',
  }),
  WORKER_CONCURRENCY: integer(4, 1, 100, 'Chunk jobs processed at once by one worker process'),
  FLAG_CONCURRENCY: integer(25, 1, 500, 'Flags downloaded at once inside one chunk job'),
  ORIGIN_CONNECTIONS: integer(64, 1, 1024, 'Most sockets open to the origin at once'),
  FLAG_ATTEMPTS: integer(3, 1, 10, 'HTTP attempts per flag (network errors, timeouts, 5xx are retried)'),
  RETRY_BASE_DELAY_MS: integer(100, 0, 60_000, 'First retry delay of a flag, doubled each attempt, with jitter'),
  ORIGIN_CONNECT_TIMEOUT_MS: integer(5_000, 100, 120_000, 'Give up connecting to the origin after this long'),
  ORIGIN_HEADERS_TIMEOUT_MS: integer(10_000, 100, 300_000, "Give up waiting for a response's headers after this long"),
  ORIGIN_BODY_TIMEOUT_MS: integer(10_000, 100, 300_000, 'Give up when a response body stalls this long between bytes'),
  MAX_RESPONSE_BYTES: integer(MiB, 1_024, 64 * MiB, 'Largest GIF or metadata.json accepted from the origin'),
  SHUTDOWN_TIMEOUT_MS: integer(
    20_000,
    0,
    600_000,
    'On SIGTERM, let running chunks finish this long, then hand them back to the queue',
  ),
  WORKER_HEALTH_PORT: integer(0, 0, 65_535, 'Port of GET /healthz and GET /metrics (0: no endpoint)'),
  // How soon a job comes back whose worker died, or whose finish a Redis failover lost
  // (docs/architecture.md, "Failover, measured"): within about lock + 2 × stalled interval.
  WORKER_LOCK_DURATION_MS: integer(
    30_000,
    1_000,
    600_000,
    "How long a worker's claim on a running job lasts unless renewed (renewed every half of it)",
  ),
  WORKER_STALLED_INTERVAL_MS: integer(
    30_000,
    500,
    600_000,
    'How often workers look for running jobs whose claim has lapsed, and hand them back',
  ),
  // Bounds and politeness of flag downloads (docs/architecture.md, "Download one flag").
  FLAG_DEADLINE_MS: integer(
    30_000,
    100,
    600_000,
    'Longest time for one flag: all attempts, retry delays and rate-limit waits (past it: ERROR "deadline")',
  ),
  ORIGIN_ALLOWED_HOSTS: Type.String({
    default: '',
    pattern: '^[A-Za-z0-9.:\\[\\], -]*$',
    description: "Comma-separated hosts (host or host:port) that redirects may lead to besides the origin's own",
  }),
  ORIGIN_RATE_LIMIT: Type.Number({
    default: 0,
    minimum: 0,
    maximum: 100_000,
    description: 'Requests per second to one origin host, shared by every worker through Redis (0: no limit)',
  }),
});

type WorkerEnv = Static<typeof WorkerEnvSchema>;

/** redis, store, logLevel and observability come from ServiceConfig, as the API's. */
export interface WorkerConfig extends ServiceConfig {
  /** Like the reference's BASE_URL: `{originUrl}/{cc}/{cc}.gif` and `/{cc}/metadata.json`. */
  originUrl: string;
  downloadsDir: string;
  /** Chunk jobs (or single-job downloads) processed at once by one worker process. */
  workerConcurrency: number;
  /** Flags downloaded at once inside one chunk job. */
  flagConcurrency: number;
  /** HTTP attempts per flag. */
  flagAttempts: number;
  /** First retry delay of a flag, doubled each attempt, with jitter. */
  retryBaseDelayMs: number;
  /** The keep-alive pool to the origin: sockets, timeouts, response size cap. */
  originPool: Readonly<OriginDispatcherOptions>;
  /** On SIGTERM, how long running jobs may finish before they are handed back. */
  shutdownTimeoutMs: number;
  /** Port of GET /healthz and GET /metrics; 0: no endpoint. */
  healthPort: number;
  /** BullMQ's lockDuration and stalledInterval: a lapsed job is back within about lock + 2 × interval. */
  jobLock: Readonly<{ lockDurationMs: number; stalledIntervalMs: number }>;
  /** Longest time for one flag, all attempts and waits included. */
  flagDeadlineMs: number;
  /** Comma-separated hosts that redirects may lead to besides the origin's own. */
  originAllowedHosts: string;
  /** Requests per second to one origin host, shared by every worker (0: no limit). */
  originRateLimit: number;
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<WorkerConfig> {
  const raw: WorkerEnv = loadEnv(WorkerEnvSchema, env);
  return Object.freeze({
    ...serviceConfig(raw, raw.DOWNLOADS_DIR),
    originUrl: raw.ORIGIN_URL,
    downloadsDir: raw.DOWNLOADS_DIR,
    workerConcurrency: raw.WORKER_CONCURRENCY,
    flagConcurrency: raw.FLAG_CONCURRENCY,
    flagAttempts: raw.FLAG_ATTEMPTS,
    retryBaseDelayMs: raw.RETRY_BASE_DELAY_MS,
    originPool: Object.freeze({
      connections: raw.ORIGIN_CONNECTIONS,
      connectTimeoutMs: raw.ORIGIN_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: raw.ORIGIN_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: raw.ORIGIN_BODY_TIMEOUT_MS,
      maxResponseBytes: raw.MAX_RESPONSE_BYTES,
    }),
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    healthPort: raw.WORKER_HEALTH_PORT,
    jobLock: Object.freeze({
      lockDurationMs: raw.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: raw.WORKER_STALLED_INTERVAL_MS,
    }),
    flagDeadlineMs: raw.FLAG_DEADLINE_MS,
    originAllowedHosts: raw.ORIGIN_ALLOWED_HOSTS,
    originRateLimit: raw.ORIGIN_RATE_LIMIT,
  });
}
