// Redis with failover (issue 12): the whole pipeline (API and two worker sets in this
// process, tests/support/pipeline.ts) on a Sentinel-watched master with one replica and
// three sentinels, reached through a redis+sentinel:// REDIS_URL as a user would set it.
// The master is SIGKILLed while a download of every country runs. The sentinels promote
// the replica; every connection (producer, events, the workers' and BullMQ's own, the
// cancel subscriber) asks them for the new master. The download completes with every
// flag decided once and saved byte-identical to the origin; while the master is gone
// the API answers 503 problem+json within its Redis timeout, never hangs. Prints the
// outage as the API saw it: from its first 503 to its first 200 after them.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  COUNTRY_CODES,
  HttpContracts,
  QueueNames,
  chunkJobId,
  redisEndpointFromEnv,
  type DownloadStatus,
} from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet, startPipeline, type Pipeline } from './support/pipeline.ts';
import { startSentinelSet, waitFor, type SentinelSet } from './support/redis-ha.ts';

const PASSWORD = randomBytes(12).toString('hex');
const REDIS_TIMEOUT_MS = 1_000;
/** An answer must come within the Redis timeout and some slack for a loaded machine: never a hang. */
const ANSWER_BOUND_MS = REDIS_TIMEOUT_MS + 2_000;
const POLL_EVERY_MS = 100;

let sentinel: SentinelSet | undefined;
let pipeline: Pipeline | undefined;

beforeAll(async () => {
  [sentinel] = await Promise.all([startSentinelSet({ password: PASSWORD, downAfterMs: 1_000 }), originDataSet()]);
});

afterAll(async () => {
  await pipeline?.close();
  await sentinel?.stop();
});

interface Answer {
  at: number;
  ms: number;
  status: number;
  problem?: boolean;
  body?: DownloadStatus;
}

/** GET the download's status until `stop()`, every POLL_EVERY_MS, each answer timed. */
function pollStatus(p: Pipeline, id: string, started: number) {
  const answers: Answer[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const sent = performance.now();
      const response = await fetch(`${p.api}/v1/downloads/${id}`, { signal: AbortSignal.timeout(10_000) });
      const json: unknown = await response.json();
      const answer: Answer = { at: sent - started, ms: performance.now() - sent, status: response.status };
      if (response.status === 200) answer.body = HttpContracts.downloadStatus.parse(json);
      else
        answer.problem =
          HttpContracts.problem.check(json) &&
          (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
      answers.push(answer);
      await sleep(POLL_EVERY_MS);
    }
  })();
  return {
    answers,
    last: () => answers.findLast((a) => a.body !== undefined)?.body,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/**
 * Redis replicates asynchronously: a chunk's finish that the old master acknowledged in
 * its last milliseconds can be missing on the new one, where the chunk still looks
 * running. BullMQ hands it back once its lock lapses, within about lock + 2 × stalled
 * interval: with the defaults (30 s each) up to ~90 s, as long as this test waits. A
 * deployment with failover sets them lower, as here (docs/architecture.md).
 */
const JOB_LOCK_ENV = { WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '2000' };

/** For a failed run's log: the download as the API last told it, and its jobs as the new master has them. */
async function describeJobs(set: SentinelSet, prefix: string, id: string, last: DownloadStatus | undefined) {
  const connection = createRedisClient(redisEndpointFromEnv({ REDIS_URL: set.url }), 'producer', {
    natMap: set.natMap,
  });
  connection.on('error', () => {});
  const queue = (name: string) => new Queue(name, { connection, prefix });
  const [downloads, flags] = [queue(QueueNames.downloads), queue(QueueNames.flags)];
  try {
    const jobs = [
      [`download ${id}`, downloads, id],
      ...Array.from({ length: 10 }, (_, n) => [`chunk ${n}`, flags, chunkJobId(id, n)] as const),
    ] as const;
    const states = await Promise.all(
      jobs.map(async ([what, q, jobId]) => {
        const job = await q.getJob(jobId);
        if (job === undefined) return `${what}: missing`;
        return `${what}: ${await job.getState()} (attempts ${job.attemptsMade}, stalled ${job.stalledCounter})`;
      }),
    );
    return `last status ${last?.state} ${last?.done}/${last?.total}; ${states.join('; ')}`;
  } catch (error) {
    return `jobs unreadable: ${String(error)}`;
  } finally {
    await Promise.allSettled([downloads.close(), flags.close()]);
    connection.disconnect();
  }
}

describe('Redis Sentinel failover', () => {
  it('kills the master during a download of every country: it completes, nothing lost, the API 503s briefly', async () => {
    const set = sentinel!;
    const masterBefore = await set.masterAddress();
    const p = (pipeline = await startPipeline({
      redisUrl: set.url,
      redisOverrides: { natMap: set.natMap },
      workers: 2,
      // Slow enough that the download spans the failover: ~10 flags in flight, 150–250 ms each.
      faults: { delayMs: [150, 250], seed: 12 },
      workerEnv: { WORKER_CONCURRENCY: '1', FLAG_CONCURRENCY: '5', ...JOB_LOCK_ENV },
      api: { redisTimeoutMs: REDIS_TIMEOUT_MS },
    }));

    const started = performance.now();
    const submitted = await fetch(`${p.api}/v1/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    });
    expect(submitted.status).toBe(202);
    const { id } = HttpContracts.downloadAccepted.parse(await submitted.json());
    const poll = pollStatus(p, id, started);

    await waitFor('a fifth of the flags decided', async () => (poll.last()?.done ?? 0) >= 50, 60_000);
    const doneAtKill = poll.last()?.done ?? 0;
    const killedAt = performance.now() - started;
    await set.killMaster();

    await waitFor(
      'the download finished',
      async () => ['completed', 'failed'].includes(poll.last()?.state ?? ''),
      90_000,
    ).catch(async (error: unknown) => {
      console.error(`sentinel failover: not finished; ${await describeJobs(set, p.prefix, id, poll.last())}`);
      throw error;
    });
    await poll.stop();
    const masterAfter = await set.masterAddress();

    const refused = poll.answers.filter((a) => a.status === 503);
    const firstRefusal = refused[0];
    const recovered = poll.answers.find(
      (a) => a.status === 200 && firstRefusal !== undefined && a.at > firstRefusal.at,
    );
    const outageS = firstRefusal && recovered ? (recovered.at - firstRefusal.at) / 1000 : 0;
    const slowest = Math.max(...poll.answers.map((a) => a.ms));
    console.info(
      `sentinel failover: master ${masterBefore} killed at ${(killedAt / 1000).toFixed(1)}s with ${doneAtKill}/250 flags decided; ` +
        `new master ${masterAfter}; API outage ${outageS.toFixed(1)}s (first 503 at ${((firstRefusal?.at ?? 0) / 1000).toFixed(1)}s, ` +
        `first 200 after at ${((recovered?.at ?? 0) / 1000).toFixed(1)}s); ${poll.answers.length} status requests: ` +
        `${poll.answers.length - refused.length} × 200, ${refused.length} × 503, slowest ${slowest.toFixed(0)} ms ` +
        `(bound ${ANSWER_BOUND_MS}); download done at ${((poll.answers.at(-1)?.at ?? 0) / 1000).toFixed(1)}s`,
    );

    expect(masterAfter).not.toBe(masterBefore);
    // The API said 503 (problem+json) while Redis was away, nothing else, and never hung.
    expect(new Set(poll.answers.map((a) => a.status))).toEqual(new Set([200, 503]));
    expect(refused.every((a) => a.problem)).toBe(true);
    expect(slowest).toBeLessThan(ANSWER_BOUND_MS);
    expect(recovered).toBeDefined();

    // Nothing lost: every country decided once, all saved, each file the origin's bytes.
    const status = HttpContracts.downloadStatus.parse(await (await fetch(`${p.api}/v1/downloads/${id}`)).json());
    expect(status).toMatchObject({ state: 'completed', total: 250, done: 250, saved: 250, notFound: 0, failed: 0 });
    expect(status.outcomes.map((o) => o.code).sort()).toEqual([...COUNTRY_CODES].sort());
    for (const outcome of status.outcomes) {
      expect(outcome.status, outcome.code).toBe('OK');
      const saved = await readFile(path.join(p.downloadsDir, outcome.file ?? ''));
      expect(saved.equals(p.dataSet.get(outcome.code)!.gif.body), outcome.code).toBe(true);
    }
  });
});
