// The worker's configuration: every environment variable it reads, with its default,
// bounds and meaning, validated once at start by main.ts. A bad value stops the start
// with a ConfigError that names the variable.
import { LogLevelSchema, loadEnv } from '@flagship/common';
import { Type, type Static } from 'typebox';

const MiB = 1024 * 1024;

const integer = (defaultValue: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: defaultValue, minimum, maximum, description });

export const WorkerConfigSchema = Type.Object({
  REDIS_URL: Type.String({
    default: 'redis://localhost:6379',
    pattern: '^rediss?://',
    description: 'Redis that holds the queues (redis:// or rediss://)',
  }),
  ORIGIN_URL: Type.String({
    default: 'http://localhost:8080/data/flags',
    pattern: '^https?://[^\\s]+$',
    description: "Flags origin, like the reference's BASE_URL: {ORIGIN_URL}/{cc}/{cc}.gif and /{cc}/metadata.json",
  }),
  DOWNLOADS_DIR: Type.String({ default: './downloads', minLength: 1, description: 'Folder where flags are saved' }),
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
  WORKER_HEALTH_PORT: integer(0, 0, 65_535, 'Port of the GET /healthz endpoint (0: no endpoint)'),
  // Bounds and politeness of flag downloads (issue 10).
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
  LOG_LEVEL: LogLevelSchema,
});

export type WorkerConfig = Static<typeof WorkerConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): WorkerConfig {
  return loadEnv(WorkerConfigSchema, env);
}
