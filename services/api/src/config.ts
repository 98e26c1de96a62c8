// The API's configuration: environment variables, validated once at start (main.ts).
// Each variable has a documented default so `node src/main.ts` works on a laptop with
// a local Redis, and `docker compose` only overrides what differs.
import {
  DEFAULT_RETENTION,
  loadEnv,
  serviceConfig,
  serviceEnvSchema,
  type Retention,
  type ServiceConfig,
} from '@flagship/common';
import { ConfigError } from '@flagship/runtime';
import { Type, type Static } from 'typebox';
import { parseApiKeys, type ApiKey } from './auth/api-keys.ts';

/** What a scrape of GET /metrics needs when API keys are on: nothing, or a key with the read scope. */
export type MetricsScope = 'public' | 'read';

export const ApiEnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address to listen on' }),
  // REDIS_*, STORE and S3_*, LOG_LEVEL, METRICS_ENABLED and OTEL_*: the same as the worker's.
  ...serviceEnvSchema('flagship-api'),
  DOWNLOADS_DIR: Type.String({
    minLength: 1,
    default: './downloads',
    description: 'Folder the workers save flags in (STORE=fs)',
  }),
  FLAG_DELIVERY: Type.Unsafe<FlagDelivery>({
    type: 'string',
    enum: ['stream', 'redirect'],
    default: 'stream',
    description:
      'How GET /v1/flags/:file answers: stream (the API sends the bytes) or redirect (302 to a presigned URL; STORE=s3 only)',
  }),
  FLAG_URL_TTL_S: Type.Integer({
    minimum: 1,
    maximum: 604_800,
    default: 60,
    description: 'Lifetime of a presigned flag URL (FLAG_DELIVERY=redirect)',
  }),
  CHUNK_SIZE: Type.Integer({ minimum: 1, maximum: 300, default: 25, description: 'Flags per chunk job' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 65_536, description: 'Largest request body accepted' }),
  REDIS_TIMEOUT_MS: Type.Integer({
    minimum: 50,
    default: 1_000,
    description: 'Longest wait for Redis in a request (readiness PING, queue reads and writes) before a 503',
  }),
  SSE_HEARTBEAT_MS: Type.Integer({
    minimum: 1_000,
    default: 15_000,
    description: 'Interval of the comment lines that keep idle event streams open through proxies',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 10_000,
    description: 'Deadline for a graceful shutdown after SIGTERM/SIGINT',
  }),
  METRICS_SCOPE: Type.Unsafe<MetricsScope>({
    type: 'string',
    enum: ['public', 'read'],
    default: 'public',
    description: 'With API_KEYS set, what GET /metrics needs: public (no key) or read (a key with the read scope)',
  }),
  DOWNLOAD_RETENTION_S: Type.Integer({
    minimum: 1,
    default: DEFAULT_RETENTION.ageSeconds,
    description: 'How long a finished download stays readable (listed, its status, retried); then 410 Gone',
  }),
  DOWNLOAD_RETENTION_COUNT: Type.Integer({
    minimum: 1,
    default: DEFAULT_RETENTION.count,
    description: 'How many finished downloads stay readable at most; older ones answer 410 Gone',
  }),
  IDEMPOTENCY_TTL_S: Type.Integer({
    minimum: 1,
    default: 86_400,
    description: 'How long an Idempotency-Key is remembered (whatever the retention of its download)',
  }),
  API_KEYS: Type.Optional(
    Type.String({
      description:
        'API keys as comma-separated name:key:scopes entries (scopes read, submit, admin joined by +); ' +
        'unset: the API is open',
    }),
  ),
  RATE_LIMIT_MAX: Type.Integer({
    minimum: 0,
    default: 0,
    description: 'Requests per RATE_LIMIT_WINDOW_MS per API key (per address when open); 0: no limit',
  }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({
    minimum: 100,
    maximum: 86_400_000,
    default: 60_000,
    description: 'The rate limit window',
  }),
});
type ApiEnv = Static<typeof ApiEnvSchema>;

/** stream: the API sends the flag's bytes; redirect: a 302 to a presigned URL of the store. */
export type FlagDelivery = 'stream' | 'redirect';

/** redis, store, logLevel and observability come from ServiceConfig, as the worker's. */
export interface ApiConfig extends ServiceConfig {
  port: number;
  host: string;
  downloadsDir: string;
  /** How flags are served, and how long a presigned URL lives. */
  flagDelivery: Readonly<{ mode: FlagDelivery; urlTtlSeconds: number }>;
  chunkSize: number;
  bodyLimitBytes: number;
  redisTimeoutMs: number;
  sseHeartbeatMs: number;
  shutdownTimeoutMs: number;
  /** What GET /metrics needs when API keys are on. */
  metricsScope: MetricsScope;
  /** Given to each download's jobs (BullMQ's removeOnComplete/removeOnFail); the worker prunes the index by it. */
  downloadRetention: Readonly<Retention>;
  idempotencyTtlSeconds: number;
  /** The keys from API_KEYS, hashed; empty: the API is open. */
  apiKeys: readonly ApiKey[];
  /** Requests per window per key (or address); max 0: no limit. */
  rateLimit: Readonly<{ max: number; windowMs: number }>;
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<ApiConfig> {
  const raw: ApiEnv = loadEnv(ApiEnvSchema, env);
  return Object.freeze({
    ...serviceConfig(raw, raw.DOWNLOADS_DIR),
    port: raw.PORT,
    host: raw.HOST,
    downloadsDir: raw.DOWNLOADS_DIR,
    flagDelivery: flagDelivery(raw),
    chunkSize: raw.CHUNK_SIZE,
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    redisTimeoutMs: raw.REDIS_TIMEOUT_MS,
    sseHeartbeatMs: raw.SSE_HEARTBEAT_MS,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    metricsScope: raw.METRICS_SCOPE,
    downloadRetention: Object.freeze({ ageSeconds: raw.DOWNLOAD_RETENTION_S, count: raw.DOWNLOAD_RETENTION_COUNT }),
    idempotencyTtlSeconds: raw.IDEMPOTENCY_TTL_S,
    apiKeys: parseApiKeys(raw.API_KEYS),
    rateLimit: Object.freeze({ max: raw.RATE_LIMIT_MAX, windowMs: raw.RATE_LIMIT_WINDOW_MS }),
  });
}

function flagDelivery(raw: ApiEnv): Readonly<{ mode: FlagDelivery; urlTtlSeconds: number }> {
  if (raw.FLAG_DELIVERY === 'redirect' && raw.STORE !== 's3') {
    throw new ConfigError(
      'invalid configuration: FLAG_DELIVERY=redirect needs STORE=s3 (a folder has no URL to redirect to)',
    );
  }
  return Object.freeze({ mode: raw.FLAG_DELIVERY, urlTtlSeconds: raw.FLAG_URL_TTL_S });
}
