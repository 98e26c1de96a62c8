// Fault test (issue 10): a 250-flag download on two worker processes, one of them
// SIGKILLed at five moments (after 10%, 30%, 50%, 70% and 90% of the flags were
// decided) and replaced by a new process each time. When the download completes, every
// flag has exactly one outcome, every flag is saved exactly once with the origin's
// bytes, and no temporary file is left in the downloads folder. Prints its figures.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { COUNTRY_CODES, Contracts, HttpContracts, QueueNames } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet, startPipeline, type Pipeline } from './support/pipeline.ts';
import { readSse } from './support/sse.ts';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';

const KILL_AT = [0.1, 0.3, 0.5, 0.7, 0.9] as const;
let redis: StartedRedisContainer;
let pipeline: Pipeline | undefined;
const workers: WorkerProcess[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [redis] = await Promise.all([
    new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start(),
    originDataSet(),
  ]);
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await pipeline?.close();
  await redis?.stop();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('a worker SIGKILLed during a download', () => {
  it('at five moments of a 250-flag download on two workers: one outcome per flag, identical files, no temp files', async () => {
    // Each flag response waits 40-120 ms and a worker runs one chunk of 25 at a time, two
    // flags at once: ~1.5 s per chunk, so the kills land in the middle of chunks.
    const p = (pipeline = await startPipeline({
      redisUrl: redis.getConnectionUrl(),
      workers: 0,
      faults: { delayMs: [40, 120], seed: 10 },
    }));
    const start = (spare: boolean) =>
      startWorkerProcess({
        redisUrl: redis.getConnectionUrl(),
        originUrl: p.originUrl,
        downloadsDir: p.downloadsDir,
        prefix: p.prefix,
        spare,
        env: { WORKER_CONCURRENCY: '1', FLAG_CONCURRENCY: '2', RETRY_BASE_DELAY_MS: '5' },
      });
    // Two workers, and a warm spare for each kill: a replacement takes jobs the moment its victim dies.
    const processes = await Promise.all([start(false), start(false), ...KILL_AT.map(() => start(true))]);
    workers.push(...processes);
    const running = processes.slice(0, 2);
    const spares = processes.slice(2);

    // Flags decided so far, from the chunks' progress (each carries its chunk's outcomes so far).
    const connection = createRedisClient({ mode: 'standalone', url: redis.getConnectionUrl() }, 'events');
    const events = new QueueEvents(QueueNames.flags, { connection, prefix: p.prefix });
    cleanups.push(
      () => connection.quit(),
      () => events.close(),
    );
    await events.waitUntilReady();
    const decidedPerChunk = new Map<string, number>();
    let decided = 0;
    let stalled = 0;
    const waiters: Array<{ at: number; resolve: () => void }> = [];
    events.on('stalled', () => stalled++);
    events.on('progress', ({ jobId, data }) => {
      if (!Contracts.chunkProgress.check(data)) return;
      const before = decidedPerChunk.get(jobId) ?? 0;
      if (data.outcomes.length <= before) return;
      decided += data.outcomes.length - before;
      decidedPerChunk.set(jobId, data.outcomes.length);
      for (const waiter of waiters.filter((w) => decided >= w.at)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    const reached = (at: number) =>
      decided >= at ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ at, resolve }));

    const started = performance.now();
    const response = await fetch(`${p.api}/v1/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    });
    expect(response.status).toBe(202);
    const { id, total } = HttpContracts.downloadAccepted.parse(await response.json());
    expect(total).toBe(COUNTRY_CODES.length);
    expect(total).toBe(250);
    const finished = readSse(`${p.api}/v1/downloads/${id}/events`, (e) => ['completed', 'failed'].includes(e.event));

    const kills: string[] = [];
    for (const [n, share] of KILL_AT.entries()) {
      await reached(Math.round(share * total));
      const decidedAtKill = decided;
      await running[n % 2]!.kill();
      const replacement = spares[n]!;
      replacement.run();
      running[n % 2] = replacement;
      kills.push(`${decidedAtKill}/${total} at ${((performance.now() - started) / 1000).toFixed(1)}s`);
    }
    const last = (await finished).at(-1);
    expect(last?.event).toBe('completed');
    const elapsed = (performance.now() - started) / 1000;

    const status = HttpContracts.downloadStatus.parse(await (await fetch(`${p.api}/v1/downloads/${id}`)).json());
    const failed = status.outcomes.filter((outcome) => outcome.status !== 'OK');
    expect(failed.map((outcome) => `${outcome.code}: ${outcome.reason ?? outcome.status}`)).toEqual([]);
    // Exactly one outcome per flag, each OK.
    const codes = status.outcomes.map((outcome) => outcome.code);
    expect(codes).toHaveLength(total);
    expect(new Set(codes).size).toBe(total);
    expect([...codes].sort()).toEqual([...COUNTRY_CODES].sort());
    expect(status).toMatchObject({ state: 'completed', total, done: total, saved: total, failed: 0, notFound: 0 });

    // Every flag saved once, byte for byte as the origin serves it; nothing else in the folder.
    const entries = await readdir(p.downloadsDir);
    const temporary = entries.filter((name) => name.startsWith('.'));
    expect(temporary).toEqual([]);
    expect(entries.sort()).toEqual([...status.files].sort());
    let identical = 0;
    for (const outcome of status.outcomes) {
      const saved = await readFile(path.join(p.downloadsDir, outcome.file ?? ''));
      expect(sha256(saved), outcome.code).toBe(sha256(p.dataSet.get(outcome.code)?.gif.body ?? Buffer.alloc(0)));
      identical++;
    }
    console.info(
      `fault: worker SIGKILL x${kills.length} (decided flags at each kill: ${kills.join('; ')}); ` +
        `${stalled} stalled chunks handed on; completed in ${elapsed.toFixed(1)}s: ${codes.length} outcomes for ` +
        `${total} flags (${new Set(codes).size} distinct), ${identical} files identical to the origin, ` +
        `${temporary.length} temp files, ${total - status.saved} flags lost`,
    );
  });
});
