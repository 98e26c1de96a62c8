// What the S3 store costs against the local folder, on the compose stack, a standalone
// benchmark (not part of `npm run bench`; it starts containers, so on a shared machine
// run it under the Docker lock):
//
//   S3_ENDPOINT=http://127.0.0.1:7480 S3_ACCESS_KEY_ID=… S3_SECRET_ACCESS_KEY=… \
//     node bench/src/scenarios/store-cost.ts
//
// Two compose projects of docker-compose.yml run side by side: redis, origin, api and
// one worker each, the same images and settings but STORE=fs (the downloads volume) in
// one and STORE=s3 (a fresh bucket on the S3 server at S3_ENDPOINT, which containers
// reach at host.docker.internal) in the other. A run downloads every country cold: the
// flags saved before are deleted (volume emptied, bucket emptied) and so are the
// conditional-GET validators in Redis, so every flag is fetched in full and written.
// Time: POST /v1/downloads → the `completed` event, as a user sees it. Runs are paired
// and alternate (fs then s3, then s3 then fs, …) after one warm-up run each, so that
// the machine's load drifts over both alike. Prints medians, IQR and the median of the
// paired s3/fs ratios; writes bench/results/store-cost.json. Settings:
// STORE_COST_PAIRS (default 9).
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { readSse } from '@flagship/cli';
import { QUEUE_PREFIX, type DownloadAccepted, type DownloadStatus } from '@flagship/common';
import { createS3Client, emptyAndRemoveBucket, emptyBucket } from '@flagship/common/s3';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { startComposeStack } from '../../../tests/support/compose-stack.ts';
import { currentCommit } from '../machine.ts';
import { describe, median, pairedRatios, quartiles } from '../stats.ts';
import { positiveIntegerSetting } from '../env-settings.ts';
import { s3SettingsFromEnv } from '../../../tests/support/s3.ts';

const STORES = ['fs', 's3'] as const;
type StoreKind = (typeof STORES)[number];
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The S3 server of S3_ENDPOINT (tests/support/s3.ts reads it) and a fresh bucket name. */
function s3Settings() {
  const settings = s3SettingsFromEnv();
  if (settings === undefined) {
    throw new Error('set S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (an S3 server on this machine)');
  }
  return { ...settings, bucket: `flagship-cost-${randomUUID().slice(0, 8)}` };
}

/** The endpoint as containers see it: this machine's loopback is their host.docker.internal. */
function fromContainers(endpoint: string): string {
  const url = new URL(endpoint);
  if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) url.hostname = 'host.docker.internal';
  return url.origin;
}

interface Stack {
  compose: StartedDockerComposeEnvironment;
  api: string;
  /** Deletes the saved flags and the validators: the next download is cold. */
  makeCold(): Promise<void>;
}

async function execOk(compose: StartedDockerComposeEnvironment, container: string, command: string[]): Promise<void> {
  const result = await compose.getContainer(container).exec(command);
  if (result.exitCode !== 0) throw new Error(`${container}: ${command.join(' ')} failed: ${result.output}`);
}

async function allCountries(api: string): Promise<{ ms: number; total: number }> {
  const started = performance.now();
  const response = await fetch(`${api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ all: true }),
  });
  if (response.status !== 202) throw new Error(`POST /v1/downloads answered ${response.status}`);
  const { id } = (await response.json()) as DownloadAccepted;
  const events = await readSse(`${api}/v1/downloads/${id}/events`, (e) => ['completed', 'failed'].includes(e.event));
  const ms = performance.now() - started;
  const last = events.at(-1);
  if (last?.event !== 'completed') throw new Error(`download ${id} ended with ${last?.event ?? 'no event'}`);
  const summary = JSON.parse(last.data) as DownloadStatus;
  if (summary.failed !== 0 || summary.saved !== summary.total) throw new Error(`download ${id}: ${summary.message}`);
  return { ms, total: summary.total };
}

async function main(): Promise<void> {
  const count = positiveIntegerSetting('STORE_COST_PAIRS', 9);
  const s3 = s3Settings();
  const client = createS3Client(s3);
  await client.send(new CreateBucketCommand({ Bucket: s3.bucket }));
  const stacks = {} as Record<StoreKind, Stack>;
  try {
    for (const kind of STORES) {
      const environment = {
        API_PORT: '0',
        ECHO_PORT: '0',
        STORE: kind,
        ...(kind === 's3'
          ? {
              S3_ENDPOINT: fromContainers(s3.endpoint),
              S3_BUCKET: s3.bucket,
              S3_REGION: s3.region,
              S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
              S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
              S3_FORCE_PATH_STYLE: 'true',
            }
          : { S3_ENDPOINT: '' }),
      };
      const started = await startComposeStack({
        name: `flagship-bench-${kind}`,
        environment,
        services: ['redis', 'origin', 'api', 'worker'],
        build: kind === STORES[0], // the second stack reuses the images
      });
      const forgetValidators = () => execOk(started, 'redis-1', ['redis-cli', 'DEL', `${QUEUE_PREFIX}:validators`]);
      stacks[kind] = {
        compose: started,
        api: `http://127.0.0.1:${started.getContainer('api-1').getMappedPort(3000)}`,
        makeCold:
          kind === 'fs'
            ? async () => {
                await execOk(started, 'worker-1', ['find', '/downloads', '-mindepth', '1', '-delete']);
                await forgetValidators();
              }
            : async () => {
                await emptyBucket(client, s3.bucket);
                await forgetValidators();
              },
      };
    }

    const samples: Record<StoreKind, number[]> = { fs: [], s3: [] };
    let total = 0;
    for (let i = -1; i < count; i++) {
      const order = i % 2 === 0 ? STORES : ([...STORES].reverse() as StoreKind[]);
      const line: string[] = [];
      for (const kind of order) {
        await stacks[kind].makeCold();
        const result = await allCountries(stacks[kind].api);
        total = result.total;
        if (i >= 0) samples[kind].push(result.ms);
        line.push(`${kind} ${result.ms.toFixed(0)} ms`);
      }
      console.log(`${i < 0 ? 'warm-up' : `pair ${i + 1}/${count}`}: ${line.join(', ')}`);
    }

    const stats = (values: number[]) => {
      const { q1, q3, iqr } = quartiles(values);
      return { ...describe(values), q1, q3, iqr };
    };
    const ratios = pairedRatios(samples.s3, samples.fs);
    const report = {
      scenario: 'all countries, cold, compose (1 worker): STORE=s3 against STORE=fs, POST → completed',
      date: new Date().toISOString(),
      commit: await currentCommit(repoRoot),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      s3Endpoint: fromContainers(s3.endpoint),
      flags: total,
      pairs: count,
      samplesMs: samples,
      fs: stats(samples.fs),
      s3: stats(samples.s3),
      s3OverFs: { medianOfPairedRatios: median([...ratios].sort((a, b) => a - b)), ratios },
    };
    console.table({
      fs: { 'median ms': report.fs.median, 'IQR ms': report.fs.iqr, 'q1 ms': report.fs.q1, 'q3 ms': report.fs.q3 },
      s3: { 'median ms': report.s3.median, 'IQR ms': report.s3.iqr, 'q1 ms': report.s3.q1, 'q3 ms': report.s3.q3 },
    });
    console.log(`s3 / fs, median of paired ratios: ${report.s3OverFs.medianOfPairedRatios.toFixed(2)}`);
    const out = path.join(repoRoot, 'bench/results/store-cost.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`written to ${path.relative(process.cwd(), out)}`);
  } finally {
    for (const kind of STORES) await stacks[kind]?.compose.down({ removeVolumes: true, timeout: 30_000 });
    await emptyAndRemoveBucket(client, s3.bucket).catch((error: unknown) => console.error(error));
    client.destroy();
  }
}

await main();
