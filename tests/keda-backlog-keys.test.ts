// The Redis keys KEDA scales the workers on (deploy/kubernetes/components/keda-autoscaling)
// are the keys where this BullMQ version keeps waiting jobs. KEDA reads a key that does
// not exist as an empty list, so a renamed key (a BullMQ upgrade, a new prefix) would
// leave the workers at their minimum without a single error: this test fails instead.
// Downloads are submitted through the real API with the example overlay's settings, on a
// Redis container, and each key named in the built ScaledObject is read as KEDA reads it.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, createBullmqDownloadQueues } from '@flagship/api';
import {
  COUNTRY_CODES,
  HttpContracts,
  QUEUE_PREFIX,
  QueueNames,
  REFERENCE_CODES,
  createLocalFlagStore,
} from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asProcessEnv,
  buildOverlay,
  containerEnvironment,
  findObject,
  objectsOfKind,
  type Deployment,
} from '../deploy/kubernetes/manifests.ts';
import { loadConfig as loadApiConfig } from '../services/api/src/config.ts';

interface RedisTrigger {
  type: string;
  name: string;
  metadata: { listName: string };
}

interface ScaledObjectSpec {
  minReplicaCount: number;
  maxReplicaCount: number;
  triggers: RedisTrigger[];
  advanced: { scalingModifiers: { formula: string; target: string } };
}

const objects = buildOverlay('example');
const scaled = objectsOfKind(objects, 'ScaledObject')[0]?.spec as ScaledObjectSpec;
const apiContainer = findObject<Deployment>(objects, 'Deployment', 'flagship-api').spec.template.spec.containers[0];
if (apiContainer === undefined) throw new Error('the api Deployment has no container');
const apiConfig = loadApiConfig(asProcessEnv(containerEnvironment(objects, apiContainer)));

/**
 * A key's length the way KEDA's redis scaler reads it: by the key's type (ZCARD, SCARD,
 * HLEN or LLEN), a key that does not exist counting as an empty list.
 */
const KEDA_LENGTH = `
local keyType = redis.call('TYPE', KEYS[1]).ok
if keyType == 'zset' then return redis.call('ZCARD', KEYS[1]) end
if keyType == 'set' then return redis.call('SCARD', KEYS[1]) end
if keyType == 'hash' then return redis.call('HLEN', KEYS[1]) end
if keyType == 'list' or keyType == 'none' then return redis.call('LLEN', KEYS[1]) end
return redis.error_reply('unsupported key type ' .. keyType)
`;

let container: StartedRedisContainer;
let redis: Redis;
let app: FastifyInstance;
let downloadsDir: string;

beforeAll(async () => {
  container = await new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start();
  const url = container.getConnectionUrl();
  redis = new Redis(url);
  const producer = createRedisClient({ mode: 'standalone', url: url }, 'producer');
  const events = createRedisClient({ mode: 'standalone', url: url }, 'events');
  await Promise.all([once(producer, 'ready'), once(events, 'ready')]);
  downloadsDir = await mkdtemp(path.join(tmpdir(), 'flagship-keda-'));
  // The API as deployed: the overlay's settings, BullMQ's default prefix for Flagship.
  const queues = createBullmqDownloadQueues({ connection: producer, eventsConnection: events, prefix: QUEUE_PREFIX });
  app = await buildApp({ config: apiConfig, queues, store: createLocalFlagStore(downloadsDir) });
  app.addHook('onClose', async () => {
    await Promise.all([producer.quit(), events.quit()]);
  });
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await container?.stop();
  if (downloadsDir !== undefined) await rm(downloadsDir, { recursive: true, force: true });
});

async function kedaLengths(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    scaled.triggers.map(async (trigger) => {
      const length = await redis.eval(KEDA_LENGTH, 1, trigger.metadata.listName);
      return [trigger.name, Number(length)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** The backlog KEDA computes: the formula is a sum of trigger names. */
function backlog(lengths: Record<string, number>): number {
  return scaled.advanced.scalingModifiers.formula
    .split('+')
    .map((term) => lengths[term.trim()] ?? Number.NaN)
    .reduce((sum, length) => sum + length, 0);
}

/** A plain BullMQ Queue on Flagship's queue and prefix, on its own connection, closed after. */
async function withQueue<T>(name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const connection = redis.duplicate();
  const queue = new Queue(name, { connection, prefix: QUEUE_PREFIX });
  try {
    return await use(queue);
  } finally {
    await queue.close();
    await connection.quit();
  }
}

async function submit(body: object): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/downloads', payload: body });
  expect(response.statusCode, response.body).toBe(202);
  return HttpContracts.downloadAccepted.parse(response.json()).id;
}

describe('the backlog KEDA reads', () => {
  it('names only redis triggers on keys under the {flagship} prefix', () => {
    expect(scaled.triggers.length).toBeGreaterThan(0);
    for (const trigger of scaled.triggers) {
      expect(trigger.type).toBe('redis');
      expect(trigger.metadata.listName.startsWith(`${QUEUE_PREFIX}:`)).toBe(true);
    }
  });

  it('counts every job waiting for a worker, in both queues, through the exact keys of the ScaledObject', async () => {
    expect(backlog(await kedaLengths())).toBe(0);

    // Three downloads of one chunk or less (one job each, queue `downloads`) and one of
    // every country (a parent waiting for its chunks, and the chunks in queue `flags`).
    for (let n = 0; n < 3; n += 1) await submit({ codes: REFERENCE_CODES });
    await submit({ all: true });
    const chunks = Math.ceil(COUNTRY_CODES.length / apiConfig.chunkSize);

    const lengths = await kedaLengths();
    expect(lengths).toEqual({
      flags_wait: chunks,
      flags_prioritized: 0,
      downloads_wait: 3,
      downloads_prioritized: 0,
    });
    expect(backlog(lengths)).toBe(3 + chunks);

    // BullMQ's own count of waiting jobs (its public state names, whatever its keys) agrees.
    for (const queueName of Object.values(QueueNames)) {
      const counts = await withQueue(queueName, (queue) => queue.getJobCounts('waiting', 'prioritized'));
      expect(counts.waiting, queueName).toBe(lengths[`${queueName}_wait`]);
      expect(counts.prioritized, queueName).toBe(lengths[`${queueName}_prioritized`]);
    }
  });

  it('counts jobs added with a priority through the prioritized keys', async () => {
    const before = await kedaLengths();
    for (const queueName of Object.values(QueueNames)) {
      await withQueue(queueName, (queue) => queue.add('prioritized', {}, { priority: 1 }));
    }
    const after = await kedaLengths();
    expect(after.flags_prioritized).toBe((before.flags_prioritized ?? 0) + 1);
    expect(after.downloads_prioritized).toBe((before.downloads_prioritized ?? 0) + 1);
    expect(backlog(after)).toBe(backlog(before) + 2);
  });

  it('would read a misspelt key as 0, without an error: why this test exists', async () => {
    expect(backlog(await kedaLengths())).toBeGreaterThan(0);
    const misspelt = await redis.eval(KEDA_LENGTH, 1, `${QUEUE_PREFIX}:flags:waiting`);
    expect(Number(misspelt)).toBe(0);
  });
});
