// The API's configuration: environment variables, validated once at start (main.ts).
// Each variable has a documented default so `node src/main.ts` works on a laptop with
// a local Redis, and `docker compose` only overrides what differs.
import {
  LogLevelSchema,
  loadEnv,
  observabilityConfig,
  observabilityEnvSchema,
  type ObservabilityConfig,
} from '@flagship/common';
import { type LogLevel } from '@flagship/runtime';
import { Type, type Static } from 'typebox';

export const ApiEnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address to listen on' }),
  REDIS_URL: Type.String({
    pattern: '^rediss?://',
    default: 'redis://localhost:6379',
    description: 'Redis holding the queues',
  }),
  DOWNLOADS_DIR: Type.String({ minLength: 1, default: './downloads', description: 'Folder the workers save flags in' }),
  CHUNK_SIZE: Type.Integer({ minimum: 1, maximum: 300, default: 25, description: 'Flags per chunk job' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 65_536, description: 'Largest request body accepted' }),
  LOG_LEVEL: LogLevelSchema,
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
  ...observabilityEnvSchema('flagship-api'),
});
type ApiEnv = Static<typeof ApiEnvSchema>;

export interface ApiConfig {
  port: number;
  host: string;
  redisUrl: string;
  downloadsDir: string;
  chunkSize: number;
  bodyLimitBytes: number;
  logLevel: LogLevel;
  redisTimeoutMs: number;
  sseHeartbeatMs: number;
  shutdownTimeoutMs: number;
  /** Metrics (GET /metrics) and tracing (OTLP) settings. */
  observability: Readonly<ObservabilityConfig>;
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<ApiConfig> {
  const raw: ApiEnv = loadEnv(ApiEnvSchema, env);
  return Object.freeze({
    port: raw.PORT,
    host: raw.HOST,
    redisUrl: raw.REDIS_URL,
    downloadsDir: raw.DOWNLOADS_DIR,
    chunkSize: raw.CHUNK_SIZE,
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    logLevel: raw.LOG_LEVEL,
    redisTimeoutMs: raw.REDIS_TIMEOUT_MS,
    sseHeartbeatMs: raw.SSE_HEARTBEAT_MS,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    observability: observabilityConfig(raw),
  });
}
