// Issue 10, point 5: a repeat download of every country asks the bundled origin "has it
// changed?" and gets 304s: every flag OK with `unchanged: true`, not one GIF byte
// transferred, not one file written. Two worker instances share the validators through
// Redis (a chunk of the repeat may well land on the other worker than the first time).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COUNTRY_CODES, createLocalFlagStore } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { silentLogger } from '@flagship/runtime';
import { createOriginServer } from '@flagship/origin';
import { validatorsKey } from '@flagship/worker';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet } from './support/pipeline.ts';
import { startWorkerFleet, type WorkerFleet } from './support/worker-fleet.ts';

let redis: StartedRedisContainer;
let origin: FastifyInstance;
let originUrl: string;
let folder: string;
let fleet: WorkerFleet;
/** What the store was asked to save, and what the origin answered for GIFs. */
let saves: string[] = [];
let gifAnswers: Array<{ status: number; bodyBytes: number }> = [];

beforeAll(async () => {
  const [started, dataSet] = await Promise.all([
    new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start(),
    originDataSet(),
  ]);
  redis = started;
  origin = createOriginServer({ dataSet, logger: silentLogger() });
  await origin.listen({ port: 0, host: '127.0.0.1' });
  // Body bytes of every GIF answer, counted as the origin writes them (first in line:
  // Fastify answers within its own 'request' listener).
  origin.server.prependListener('request', (req, res) => {
    if (!req.url?.endsWith('.gif')) return;
    let bodyBytes = 0;
    const count = (chunk: unknown) => {
      if (chunk instanceof Uint8Array || typeof chunk === 'string') bodyBytes += Buffer.byteLength(chunk);
    };
    const [write, end] = [res.write.bind(res), res.end.bind(res)];
    res.write = ((chunk: unknown, ...rest: never[]) => (count(chunk), write(chunk as never, ...rest))) as typeof write;
    res.end = ((chunk?: unknown, ...rest: never[]) => (count(chunk), end(chunk as never, ...rest))) as typeof end;
    res.on('finish', () => gifAnswers.push({ status: res.statusCode, bodyBytes }));
  });
  originUrl = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}/data/flags`;
  folder = await mkdtemp(path.join(tmpdir(), 'flagship-conditional-'));
  const local = createLocalFlagStore(folder);
  fleet = await startWorkerFleet({
    redisUrl: redis.getConnectionUrl(),
    originUrl,
    workers: 2,
    store: {
      save: (name, bytes) => {
        saves.push(name);
        return local.save(name, bytes);
      },
      open: (name) => local.open(name),
      stat: (name) => local.stat!(name),
    },
  });
});

afterAll(async () => {
  await fleet?.close();
  await origin?.close();
  await rm(folder, { recursive: true, force: true });
  await redis?.stop();
});

async function filesWithTimes(): Promise<Map<string, number>> {
  const names = await readdir(folder);
  const times = await Promise.all(names.map(async (name) => (await stat(path.join(folder, name))).mtimeMs));
  return new Map(names.map((name, i) => [name, times[i] as number]));
}

describe('conditional GET on a repeat download', () => {
  it('first run: every flag transferred and written; repeat: every flag unchanged, no GIF bytes, no writes', async () => {
    const first = await fleet.download(COUNTRY_CODES);
    expect(first).toMatchObject({ total: COUNTRY_CODES.length, saved: COUNTRY_CODES.length, failed: 0 });
    expect(first.outcomes.some((outcome) => outcome.unchanged)).toBe(false);
    expect(saves).toHaveLength(COUNTRY_CODES.length);
    expect(gifAnswers.every((answer) => answer.status === 200 && answer.bodyBytes > 0)).toBe(true);
    const firstBytes = gifAnswers.reduce((sum, answer) => sum + answer.bodyBytes, 0);
    const written = await filesWithTimes();
    const hash = await redisHash(fleet.prefix);
    expect(Object.keys(hash)).toHaveLength(COUNTRY_CODES.length);

    saves = [];
    gifAnswers = [];
    const repeat = await fleet.download(COUNTRY_CODES);
    expect(repeat).toMatchObject({ total: COUNTRY_CODES.length, saved: COUNTRY_CODES.length, failed: 0 });
    expect(repeat.outcomes.every((outcome) => outcome.status === 'OK' && outcome.unchanged === true)).toBe(true);
    expect(repeat.files).toEqual(first.files);
    expect(repeat.outcomes.map((o) => o.bytes)).toEqual(first.outcomes.map((o) => o.bytes));
    expect(gifAnswers).toHaveLength(COUNTRY_CODES.length);
    expect(gifAnswers.every((answer) => answer.status === 304)).toBe(true);
    expect(gifAnswers.reduce((sum, answer) => sum + answer.bodyBytes, 0)).toBe(0);
    expect(saves).toEqual([]);
    expect(await filesWithTimes()).toEqual(written);
    console.log(
      `conditional GET, ${COUNTRY_CODES.length} flags: GIF bytes first ${firstBytes}, repeat 0; ` +
        `elapsed first ${first.elapsedSeconds.toFixed(3)} s, repeat ${repeat.elapsedSeconds.toFixed(3)} s`,
    );
  });

  it('a flag whose file was deleted is downloaded in full again; the others stay unchanged', async () => {
    await rm(path.join(folder, 'CN_China.gif'));
    saves = [];
    gifAnswers = [];
    const summary = await fleet.download(['CN', 'IN', 'US']);
    expect(summary.outcomes.map((o) => [o.code, o.status, o.unchanged ?? false])).toEqual([
      ['CN', 'OK', false],
      ['IN', 'OK', true],
      ['US', 'OK', true],
    ]);
    expect(saves).toEqual(['CN_China.gif']);
    expect(gifAnswers.map((answer) => answer.status).sort()).toEqual([200, 304, 304]);
  });
});

async function redisHash(prefix: string): Promise<Record<string, string>> {
  const connection = createRedisClient({ mode: 'standalone', url: redis.getConnectionUrl() }, 'worker');
  try {
    return await connection.hgetall(validatorsKey(prefix));
  } finally {
    await connection.quit();
  }
}
