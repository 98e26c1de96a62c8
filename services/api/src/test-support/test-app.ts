// Builds the app over fake queues and a temporary flag folder, for route tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalFlagStore, type FlagStore } from '@flagship/common';
import type { Logger } from '@flagship/runtime';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppConfig } from '../app.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import type { FlagDeliveryOptions } from '../routes/flags.routes.ts';
import { createFakeDownloadQueues, type FakeDownloadQueues } from './fake-download-queues.ts';

export const TEST_CONFIG: AppConfig = { chunkSize: 25, bodyLimitBytes: 4_096, sseHeartbeatMs: 60_000 };

export interface TestApp<Q extends DownloadQueues> {
  app: FastifyInstance;
  queues: Q;
  dir: string;
  close(): Promise<void>;
}

export async function buildTestApp(): Promise<TestApp<FakeDownloadQueues>>;
export async function buildTestApp<Q extends DownloadQueues>(queues: Q, now?: () => number): Promise<TestApp<Q>>;
export async function buildTestApp(queues?: DownloadQueues, now?: () => number): Promise<TestApp<DownloadQueues>> {
  return buildTestAppWith({ ...(queues ? { queues } : {}), ...(now ? { now } : {}) });
}

export interface TestAppOptions<Q extends DownloadQueues> {
  queues?: Q;
  now?: () => number;
  /** Merged over TEST_CONFIG: API keys, rate limit. */
  config?: Partial<AppConfig>;
  logger?: Logger;
}

/** buildTestApp with more to choose: the config (API keys, rate limit) and the logger. */
export async function buildTestAppWith(
  options?: TestAppOptions<FakeDownloadQueues>,
): Promise<TestApp<FakeDownloadQueues>>;
export async function buildTestAppWith<Q extends DownloadQueues>(options: TestAppOptions<Q>): Promise<TestApp<Q>>;
export async function buildTestAppWith(options: TestAppOptions<DownloadQueues> = {}): Promise<TestApp<DownloadQueues>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flagship-api-'));
  const q = options.queues ?? createFakeDownloadQueues();
  const app = await buildApp({
    config: { ...TEST_CONFIG, ...options.config },
    queues: q,
    store: createLocalFlagStore(dir),
    ...(options.now ? { now: options.now } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    app,
    queues: q,
    dir,
    async close() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The app over fake queues serving GET /v1/flags/:file from `store` as `delivery` says
 * (stream, or redirect to the store's presigned URLs): for the flag routes' tests, the
 * S3 tests (tests/flag-store.test.ts) and the delivery bench, which bring their own store.
 * The caller closes it.
 */
export function buildFlagDeliveryApp(
  store: FlagStore,
  delivery: Readonly<FlagDeliveryOptions>,
): Promise<FastifyInstance> {
  return buildApp({ config: TEST_CONFIG, queues: createFakeDownloadQueues(), store, flagDelivery: delivery });
}
