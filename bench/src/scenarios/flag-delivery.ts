// GET /v1/flags/:file from an S3 store: stream (the API sends the bytes) against
// redirect (a 302 to a presigned URL, the client fetches the bytes from S3), a
// standalone benchmark (not part of `npm run bench`; no containers):
//
//   S3_ENDPOINT=http://127.0.0.1:7480 S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… \
//     node bench/src/scenarios/flag-delivery.ts
//
// The 250 real flag GIFs (the origin's generated data) are saved into a fresh bucket,
// and two APIs run in this process on that bucket, one per mode. Each round fetches
// every flag with Node's fetch (keep-alive, redirects followed), in both modes, the
// first mode alternating from round to round: once one request at a time (latency of
// each flag as a client sees it), once 16 at a time (time for all 250). Every body is
// checked against the GIF saved. Prints medians and IQR over rounds and writes
// bench/results/flag-delivery.json. Settings: DELIVERY_ROUNDS (default 9).
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client, createS3FlagStore, emptyAndRemoveBucket } from '@flagship/common/s3';
import { DEFAULT_DATA_DIR, generateFlags, loadFlagDataSet } from '@flagship/origin';
import type { FastifyInstance } from 'fastify';
import { buildFlagDeliveryApp } from '../../../services/api/src/test-support/test-app.ts';
import { currentCommit } from '../machine.ts';
import { describe, median, quartiles } from '../stats.ts';
import { positiveIntegerSetting } from '../env-settings.ts';
import { s3SettingsFromEnv } from '../../../tests/support/s3.ts';

const MODES = ['stream', 'redirect'] as const;
type Mode = (typeof MODES)[number];
const PARALLEL = 16;

interface RoundResult {
  /** Median and p95 latency of one flag, one request at a time (ms). */
  sequentialP50: number;
  sequentialP95: number;
  /** All flags, PARALLEL at a time (ms). */
  parallelMs: number;
}

/** The S3 server of S3_ENDPOINT (tests/support/s3.ts reads it) and a fresh bucket name. */
function s3Settings() {
  const settings = s3SettingsFromEnv();
  if (settings === undefined) {
    throw new Error('set S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (an S3 server to measure against)');
  }
  return { ...settings, bucket: `flagship-bench-${randomUUID().slice(0, 8)}` };
}

async function fetchFlag(base: string, file: string, expected: Buffer): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/flags/${encodeURIComponent(file)}`);
  const body = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - started;
  if (response.status !== 200 || !body.equals(expected)) {
    throw new Error(`${file}: HTTP ${response.status}, ${body.length} bytes (expected ${expected.length})`);
  }
  return ms;
}

async function measure(base: string, flags: ReadonlyMap<string, Buffer>): Promise<RoundResult> {
  const latencies: number[] = [];
  for (const [file, bytes] of flags) latencies.push(await fetchFlag(base, file, bytes));
  const stats = describe(latencies);
  const queue = [...flags];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await fetchFlag(base, ...next);
    }),
  );
  return { sequentialP50: stats.median, sequentialP95: stats.p95, parallelMs: performance.now() - started };
}

function summarize(results: readonly RoundResult[]) {
  const of = (pick: (r: RoundResult) => number) => {
    const values = results.map(pick);
    const sorted = [...values].sort((a, b) => a - b);
    const { q1, q3, iqr } = quartiles(values);
    return { median: round(median(sorted)), q1: round(q1), q3: round(q3), iqr: round(iqr) };
  };
  return {
    sequentialP50Ms: of((r) => r.sequentialP50),
    sequentialP95Ms: of((r) => r.sequentialP95),
    parallelAllMs: of((r) => r.parallelMs),
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

async function main(): Promise<void> {
  const settings = s3Settings();
  const total = positiveIntegerSetting('DELIVERY_ROUNDS', 9);
  const client = createS3Client(settings);
  await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  const apps: FastifyInstance[] = [];
  try {
    await generateFlags({ outDir: DEFAULT_DATA_DIR });
    const dataSet = await loadFlagDataSet(DEFAULT_DATA_DIR);
    const store = createS3FlagStore({ client, bucket: settings.bucket });
    const flags = new Map<string, Buffer>();
    for (const code of dataSet.codes) {
      const gif = dataSet.get(code)?.gif.body;
      if (gif === undefined) continue;
      flags.set(`${code}_flag.gif`, gif);
    }
    await Promise.all([...flags].map(([file, bytes]) => store.save(file, bytes)));
    const bases = {} as Record<Mode, string>;
    for (const mode of MODES) {
      const app = await buildFlagDeliveryApp(store, { mode, urlTtlSeconds: 60 });
      apps.push(app);
      await app.listen({ port: 0, host: '127.0.0.1' });
      bases[mode] = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    }
    // One warm-up pass per mode (connections, the SDK's first signing), not counted.
    for (const mode of MODES) await measure(bases[mode], flags);
    const results: Record<Mode, RoundResult[]> = { stream: [], redirect: [] };
    for (let i = 0; i < total; i++) {
      const order = i % 2 === 0 ? MODES : ([...MODES].reverse() as Mode[]);
      for (const mode of order) results[mode].push(await measure(bases[mode], flags));
      console.log(
        `round ${i + 1}/${total}: ${MODES.map((m) => `${m} p50 ${results[m].at(-1)!.sequentialP50.toFixed(2)} ms, all×${PARALLEL} ${results[m].at(-1)!.parallelMs.toFixed(0)} ms`).join('; ')}`,
      );
    }
    const report = {
      scenario: 'GET /v1/flags/:file from an S3 store: stream vs redirect to a presigned URL',
      date: new Date().toISOString(),
      commit: await currentCommit(fileURLToPath(new URL('../../../', import.meta.url))),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => round(l)) },
      s3Endpoint: settings.endpoint,
      flags: flags.size,
      gifBytes: [...flags.values()].reduce((sum, bytes) => sum + bytes.length, 0),
      rounds: total,
      parallel: PARALLEL,
      stream: summarize(results.stream),
      redirect: summarize(results.redirect),
    };
    console.table(
      Object.fromEntries(
        MODES.map((mode) => [
          mode,
          {
            'one flag p50 (median ms)': report[mode].sequentialP50Ms.median,
            'one flag p95 (median ms)': report[mode].sequentialP95Ms.median,
            [`all ${flags.size}, ${PARALLEL} at a time (median ms)`]: report[mode].parallelAllMs.median,
            'IQR of all (ms)': report[mode].parallelAllMs.iqr,
          },
        ]),
      ),
    );
    const out = fileURLToPath(new URL('../../results/flag-delivery.json', import.meta.url));
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`written to ${path.relative(process.cwd(), out)}`);
  } finally {
    for (const app of apps) await app.close();
    await emptyAndRemoveBucket(client, settings.bucket).catch((error: unknown) => console.error(error));
    client.destroy();
  }
}

await main();
