// Scenario 4: API intake. POST /v1/downloads (the default body: the reference's 20
// codes, which fit one chunk, so the API adds one job) with autocannon, 10 connections,
// against what the same Redis takes from BullMQ directly in the same run: Queue.add of
// exactly the job the API adds (buildDownloadJobs), and FlowProducer.add of the same
// codes as a flow (a parent and one chunk: the shape of larger downloads), each with 10
// adds in flight. No worker runs (intake alone is measured; jobs pile up
// and Redis is flushed before every run). Variants rotate run by run.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { QUEUE_PREFIX, REFERENCE_CODES, QueueNames, buildDownloadFlow, buildDownloadJobs } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { FlowProducer, Queue } from 'bullmq';
import type { ResultRow } from '../report.ts';
import { describe } from '../stats.ts';
import type { BenchContext, ScenarioResult } from './context.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const CONNECTIONS = 10;
const TARGET_RATIO = 0.5;

export interface IntakeOptions {
  seconds: number;
  runs: number;
}

interface AutocannonJson {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

/** Requests/s of 2xx answers; throws when any request failed. */
export function autocannonRate(result: AutocannonJson): number {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `autocannon saw failures: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  if (!(result.duration > 0)) throw new Error(`autocannon reported a duration of ${result.duration}`);
  return result['2xx'] / result.duration;
}

async function apiRate(apiUrl: string, seconds: number): Promise<number> {
  // Its own process, as a load generator should be: it must not share the harness's event loop.
  const { stdout } = await run(
    process.execPath,
    [
      require.resolve('autocannon/autocannon.js'),
      '--connections',
      String(CONNECTIONS),
      '--duration',
      String(seconds),
      '--method',
      'POST',
      '--headers',
      'content-type=application/json',
      '--body',
      '{}',
      '--json',
      `${apiUrl}/v1/downloads`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return autocannonRate(JSON.parse(stdout) as AutocannonJson);
}

/** Operations/s of `op` kept `CONNECTIONS` in flight for `seconds`. */
async function saturate(seconds: number, op: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let done = 0;
  async function lane(): Promise<void> {
    while (performance.now() < deadline) {
      await op();
      done += 1;
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  return done / ((performance.now() - started) / 1000);
}

type Variant = 'api' | 'flow' | 'queue';

export async function intakeScenario(ctx: BenchContext, options: IntakeOptions): Promise<ScenarioResult> {
  const scenario = `API intake (${CONNECTIONS} connections, ${options.seconds} s per run, no workers)`;
  ctx.log(`${scenario}: ${ctx.warmups} warm-up + ${options.runs} measured runs of each variant`);
  await ctx.stack.stopWorkers();
  const connection = createRedisClient({ mode: 'standalone', url: ctx.redis.url }, 'producer');
  const flows = new FlowProducer({ connection });
  const queue = new Queue(QueueNames.downloads, { connection, prefix: QUEUE_PREFIX });
  const samples: Record<Variant, number[]> = { api: [], flow: [], queue: [] };
  const measure: Record<Variant, (seconds: number) => Promise<number>> = {
    api: (seconds) => apiRate(ctx.stack.apiUrl, seconds),
    flow: (seconds) => saturate(seconds, () => flows.add(buildDownloadFlow(randomUUID(), REFERENCE_CODES))),
    queue: (seconds) =>
      saturate(seconds, () => {
        const jobs = buildDownloadJobs(randomUUID(), REFERENCE_CODES);
        if (jobs.shape !== 'single') throw new Error('the reference codes should fit one chunk');
        return queue.add(jobs.name, jobs.data, jobs.opts);
      }),
  };
  const order: Variant[] = ['api', 'flow', 'queue'];
  try {
    for (let i = 0; i < ctx.warmups + options.runs; i++) {
      const measured = i >= ctx.warmups;
      // Warm-ups are short: they only warm JITs and connections.
      const seconds = measured ? options.seconds : Math.min(2, options.seconds);
      for (let k = 0; k < order.length; k++) {
        const variant = order[(i + k) % order.length] as Variant;
        await ctx.redis.flushAll();
        const rate = await measure[variant](seconds);
        if (measured) samples[variant].push(rate);
      }
    }
  } finally {
    await Promise.allSettled([flows.close(), queue.close()]);
    await connection.quit().catch(() => connection.disconnect());
    await ctx.redis.flushAll();
  }
  const api = describe(samples.api);
  const flow = describe(samples.flow);
  const plain = describe(samples.queue);
  const rows: ResultRow[] = [
    { scenario, subject: 'Flagship API (autocannon)', metric: 'POST /v1/downloads', unit: 'requests/s', stats: api },
    { scenario, subject: 'raw BullMQ', metric: 'FlowProducer.add (same codes as a flow)', unit: 'adds/s', stats: flow },
    { scenario, subject: 'raw BullMQ', metric: 'Queue.add (the job the API adds)', unit: 'adds/s', stats: plain },
  ];
  return {
    rows,
    targets: [
      {
        scenario,
        measure: 'POST /v1/downloads requests/s vs raw Queue.add',
        target: `≥ ${TARGET_RATIO}× raw Queue.add`,
        value: api.median / plain.median,
        comparison: '>=',
        threshold: TARGET_RATIO,
        unit: '×',
        detail: `medians ${Math.round(api.median)} req/s vs ${Math.round(plain.median)} Queue.add/s (FlowProducer.add of the same codes as a flow: ${Math.round(flow.median)}/s)`,
      },
    ],
    notes: [],
  };
}
