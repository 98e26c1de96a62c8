// Beyond one machine: two compose projects standing for two hosts that share no volume.
// "Host A" (docker-compose.yml + multi-host/host-a.yml): Redis, the origin, the api and
// one worker. "Host B" (multi-host/host-b.yml): two workers only, in their own project
// and network, reaching host A's Redis and origin through this machine's published
// ports (host.docker.internal), as another machine's workers would. Every service saves
// and reads flags in one S3 bucket (STORE=s3) on the S3 server of this machine
// (tests/support/s3.ts: S3_ENDPOINT, or MinIO; skipped, saying why, without either).
//
// A download of every country must be shared by both hosts' workers (their logs say
// which chunks each did), and every flag the api serves must be byte-identical to the
// origin's file: host B's flags reach the api only through the bucket.
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { HttpContracts, type DownloadStatus } from '@flagship/common';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComposeStack } from './support/compose-stack.ts';
import { openTestBucket, type TestBucket } from './support/s3.ts';
import { readSse } from './support/sse.ts';

const run = randomUUID().slice(0, 8);
const HOST_B_WORKERS = 2;

const opened = await openTestBucket();
if ('skip' in opened) console.warn(`multi-host.test.ts skipped: ${opened.skip}`);
const s3 = 'bucket' in opened ? opened.bucket : undefined;

/** The S3 endpoint as containers see it: this machine's loopback is their host.docker.internal. */
function fromContainers(endpoint: string): string {
  const url = new URL(endpoint);
  if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) url.hostname = 'host.docker.internal';
  return url.origin;
}

async function containerLogs(stack: StartedDockerComposeEnvironment, name: string): Promise<string> {
  const { stdout } = await promisify(execFile)('docker', ['logs', stack.getContainer(name).getId()], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

describe.skipIf(s3 === undefined)('two hosts, one bucket, no shared volume', () => {
  const bucket = s3 as TestBucket;
  let hostA: StartedDockerComposeEnvironment | undefined;
  let hostB: StartedDockerComposeEnvironment | undefined;
  let api: string;

  beforeAll(async () => {
    const { settings } = bucket;
    const redisPassword = randomBytes(16).toString('hex');
    const storeEnv = {
      STORE: 's3',
      S3_ENDPOINT: fromContainers(settings.endpoint ?? ''),
      S3_BUCKET: settings.bucket,
      S3_REGION: settings.region,
      S3_ACCESS_KEY_ID: settings.credentials?.accessKeyId ?? '',
      S3_SECRET_ACCESS_KEY: settings.credentials?.secretAccessKey ?? '',
      S3_FORCE_PATH_STYLE: 'true',
    };
    // One chunk at a time per worker and a small origin delay: the download has to be
    // shared by all three workers rather than swallowed by the first one up.
    const workerLoad = { WORKER_CONCURRENCY: '1', LOG_LEVEL: 'debug' };
    // The project names carry `run` (and startComposeStack adds a suffix): host B's
    // networks are told apart from host A's by it below.
    hostA = await startComposeStack({
      name: `flagship-mh-a-${run}`,
      files: ['docker-compose.yml', 'tests/multi-host/host-a.yml'],
      environment: {
        ...storeEnv,
        ...workerLoad,
        API_PORT: '0',
        ORIGIN_DELAY_MS: '5-20',
        REDIS_PASSWORD: redisPassword,
      },
      services: ['redis', 'origin', 'api', 'worker'],
    });
    api = `http://127.0.0.1:${hostA.getContainer('api-1').getMappedPort(3000)}`;
    // Host B runs the worker image host A built.
    hostB = await startComposeStack({
      name: `flagship-mh-b-${run}`,
      files: ['tests/multi-host/host-b.yml'],
      build: false,
      environment: {
        ...storeEnv,
        ...workerLoad,
        REDIS_PASSWORD: redisPassword,
        HOST_A_REDIS_PORT: String(hostA.getContainer('redis-1').getMappedPort(6379)),
        HOST_A_ORIGIN_PORT: String(hostA.getContainer('origin-1').getMappedPort(8080)),
      },
      upOptions: ['--scale', `worker=${HOST_B_WORKERS}`],
      startupTimeoutMs: 120_000,
    });
  });

  afterAll(async () => {
    await hostB?.down({ removeVolumes: true, timeout: 30_000 }).catch(() => undefined);
    await hostA?.down({ removeVolumes: true, timeout: 30_000 }).catch(() => undefined);
    await bucket.close();
  });

  it('host B has no volume: its workers reach host A only over the host', async () => {
    for (let i = 1; i <= HOST_B_WORKERS; i++) {
      const { stdout } = await promisify(execFile)('docker', [
        'inspect',
        '-f',
        '{{json .Mounts}} {{range $net, $_ := .NetworkSettings.Networks}}{{$net}} {{end}}',
        hostB!.getContainer(`worker-${i}`).getId(),
      ]);
      const [mounts, ...networks] = stdout.trim().split(' ');
      expect(mounts, `host B worker-${i} mounts`).toBe('[]');
      expect(
        networks.every((net) => net.startsWith(`flagship-mh-b-${run}`)),
        networks.join(','),
      ).toBe(true);
    }
  });

  it('spreads a download of every country over both hosts, and the api serves every flag as the origin has it', async () => {
    const started = performance.now();
    const response = await fetch(`${api}/v1/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    });
    expect(response.status).toBe(202);
    const { id } = HttpContracts.downloadAccepted.parse(await response.json());
    const events = await readSse(`${api}/v1/downloads/${id}/events`, (e) => ['completed', 'failed'].includes(e.event));
    expect(events.at(-1)?.event).toBe('completed');
    const summary: DownloadStatus = HttpContracts.downloadStatus.parse(
      await (await fetch(`${api}/v1/downloads/${id}`)).json(),
    );
    console.info(
      `multi-host: all (${summary.total}) codes, POST -> completed in ${(performance.now() - started).toFixed(0)} ms (${summary.message})`,
    );
    expect(summary.total).toBeGreaterThanOrEqual(194);
    expect(summary.failed).toBe(0);
    expect(summary.saved).toBe(summary.total);

    // Which worker did which chunks: every host did some.
    const chunksOf = async (stack: StartedDockerComposeEnvironment, name: string) =>
      (await containerLogs(stack, name)).split('\n').filter((line) => line.includes(id) && line.includes('chunk done'))
        .length;
    const onA = await chunksOf(hostA!, 'worker-1');
    const onB: number[] = [];
    for (let i = 1; i <= HOST_B_WORKERS; i++) onB.push(await chunksOf(hostB!, `worker-${i}`));
    console.info(`multi-host: chunks done on host A: ${onA}, on host B: ${onB.join(' + ')}`);
    expect(onA, 'host A worker chunks').toBeGreaterThan(0);
    expect(
      onB.reduce((sum, n) => sum + n, 0),
      'host B workers chunks',
    ).toBeGreaterThan(0);

    // Every flag is in the bucket, and the api serves it byte for byte as the origin does.
    const listed = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.settings.bucket }));
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual([...summary.files].sort());
    const origin = hostA!.getContainer('origin-1');
    const atOrigin = await origin.exec([
      'sha256sum',
      ...summary.outcomes.map(
        (o) => `/app/services/origin/data/flags/${o.code.toLowerCase()}/${o.code.toLowerCase()}.gif`,
      ),
    ]);
    expect(atOrigin.exitCode).toBe(0);
    const originHash = new Map(
      atOrigin.output
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/) as [string, string])
        .map(([hash, file]) => [path.basename(file, '.gif').toUpperCase(), hash]),
    );
    for (const outcome of summary.outcomes) {
      const served = await fetch(`${api}/v1/flags/${encodeURIComponent(outcome.file ?? '')}`);
      expect(served.status, outcome.file).toBe(200);
      const hash = createHash('sha256')
        .update(Buffer.from(await served.arrayBuffer()))
        .digest('hex');
      expect(hash, outcome.file).toBe(originHash.get(outcome.code));
    }
  });
});
