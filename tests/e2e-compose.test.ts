// End to end: the real docker-compose.yml, built and started with two workers, driven
// through the published API port as a user would. Checks that the 20 reference flags
// land in the downloads volume byte for byte as the origin serves them. The stack runs
// with API keys, a rate limit and its own Redis password, as the README says to set
// them: every request here carries a key, and only the api and the echo are published.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { HttpContracts, REFERENCE_CODES, type DownloadStatus } from '@flagship/common';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, startComposeStack } from './support/compose-stack.ts';
import { readSse } from './support/sse.ts';

const root = REPOSITORY_ROOT;
let stack: StartedDockerComposeEnvironment;
let api: string;
const ADMIN_KEY = randomBytes(24).toString('hex');
const READ_KEY = randomBytes(24).toString('hex');
/** Every request to the API carries the admin key, as FLAGSHIP_API_KEY makes the CLI do. */
const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };

beforeAll(async () => {
  stack = await startComposeStack({
    name: 'flagship-e2e',
    environment: {
      API_PORT: '0', // Docker picks a free host port
      ECHO_PORT: '0',
      // One chunk at a time per worker and a small origin delay: a large download must
      // then be shared by both workers, which the test checks in their logs.
      WORKER_CONCURRENCY: '1',
      ORIGIN_DELAY_MS: '5-20',
      LOG_LEVEL: 'debug',
      API_KEYS: `e2e:${ADMIN_KEY}:admin,viewer:${READ_KEY}:read`,
      RATE_LIMIT_MAX: '100000',
      REDIS_PASSWORD: randomBytes(16).toString('hex'),
    },
    upOptions: ['--scale', 'worker=2'],
  });
  api = `http://127.0.0.1:${stack.getContainer('api-1').getMappedPort(3000)}`;
});

afterAll(async () => {
  await stack?.down({ removeVolumes: true, timeout: 30_000 });
});

async function submit(body: unknown): Promise<{ id: string; started: number }> {
  const started = performance.now();
  const response = await fetch(`${api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  const { id } = HttpContracts.downloadAccepted.parse(await response.json());
  return { id, started };
}

async function waitForSummary(id: string): Promise<DownloadStatus> {
  const events = await readSse(
    `${api}/v1/downloads/${id}/events`,
    (e) => e.event === 'completed' || e.event === 'failed',
    { headers: AUTH },
  );
  const last = events.at(-1);
  expect(last?.event).toBe('completed');
  const response = await fetch(`${api}/v1/downloads/${id}`, { headers: AUTH });
  expect(response.status).toBe(200);
  return HttpContracts.downloadStatus.parse(await response.json());
}

async function sha256In(container: string, files: string[]): Promise<Map<string, string>> {
  const result = await stack.getContainer(container).exec(['sha256sum', ...files]);
  expect(result.exitCode).toBe(0);
  return new Map(
    result.output
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/) as [string, string])
      .map(([hash, file]) => [path.basename(file), hash]),
  );
}

async function containerLogs(name: string): Promise<string> {
  const { stdout } = await promisify(execFile)('docker', ['logs', stack.getContainer(name).getId()], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

describe('docker compose stack', () => {
  it('asks for API keys (401 without, 403 without the scope) and publishes neither Redis nor the workers', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${api}/v1/downloads`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    const missing = await post({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="flagship"');
    expect(HttpContracts.problem.parse(await missing.json()).code).toBe('FLAGSHIP_UNAUTHORIZED');
    const readOnly = await post({ authorization: `Bearer ${READ_KEY}` });
    expect(readOnly.status).toBe(403);
    expect(readOnly.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${api}/readyz`)).status).toBe(200);

    for (const name of ['redis-1', 'worker-1', 'worker-2']) {
      const { stdout } = await promisify(execFile)('docker', ['port', stack.getContainer(name).getId()]);
      expect(stdout.trim(), `${name} publishes no port`).toBe('');
    }
    const noPassword = await stack.getContainer('redis-1').exec(['sh', '-c', 'REDISCLI_AUTH= redis-cli ping']);
    expect(noPassword.output).toContain('NOAUTH');
  });

  it('flagship download submits and follows a download to the report line', async () => {
    const cli = path.join(root, 'packages/cli/src/main.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'download', '--api', api, 'cn', 'br'], {
      env: { ...process.env, FLAGSHIP_API_KEY: ADMIN_KEY },
    });
    expect(stdout).toMatch(
      /^China\nBrazil\n\n2 flags downloaded in \d+\.\d\ds\n$|^Brazil\nChina\n\n2 flags downloaded in/,
    );
  });

  it('downloads the reference 20 flags into the volume, byte-identical to the origin', async () => {
    const { id, started } = await submit({ codes: REFERENCE_CODES });
    const summary = await waitForSummary(id);
    console.info(
      `e2e: 20 codes, POST -> completed in ${(performance.now() - started).toFixed(0)} ms (${summary.message})`,
    );

    expect(summary.saved).toBe(20);
    expect(summary.failed).toBe(0);
    expect(summary.files).toContain('CN_China.gif');
    expect(summary.files).toContain('US_United_States.gif');
    expect(summary.files).toHaveLength(20);

    const inVolume = await sha256In(
      'worker-1',
      summary.files.map((file) => `/downloads/${file}`),
    );
    const atOrigin = await sha256In(
      'origin-1',
      REFERENCE_CODES.map((code) => `/app/services/origin/data/flags/${code.toLowerCase()}/${code.toLowerCase()}.gif`),
    );
    for (const outcome of summary.outcomes) {
      const file = outcome.file ?? '';
      const served = Buffer.from(
        await (await fetch(`${api}/v1/flags/${encodeURIComponent(file)}`, { headers: AUTH })).arrayBuffer(),
      );
      const originHash = atOrigin.get(`${outcome.code.toLowerCase()}.gif`);
      expect(originHash, outcome.code).toBeDefined();
      expect(inVolume.get(file), file).toBe(originHash);
      expect(createHash('sha256').update(served).digest('hex'), file).toBe(originHash);
    }
  });

  it('downloads every country with "all": true, spread over both workers', async () => {
    const { id, started } = await submit({ all: true });
    const summary = await waitForSummary(id);
    console.info(
      `e2e: all (${summary.total}) codes, POST -> completed in ${(performance.now() - started).toFixed(0)} ms (${summary.message})`,
    );
    expect(summary.total).toBeGreaterThanOrEqual(194);
    expect(summary.saved).toBeGreaterThanOrEqual(194);
    expect(summary.failed).toBe(0);
    for (const worker of ['worker-1', 'worker-2']) {
      const chunksDone = (await containerLogs(worker))
        .split('\n')
        .filter((line) => line.includes(id) && line.includes('chunk done'));
      expect(chunksDone.length, `${worker} processed chunks of the download`).toBeGreaterThan(0);
    }
  });
});
