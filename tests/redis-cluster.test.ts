// Redis Cluster (issue 12): the whole pipeline (API and two worker sets in this process)
// on three Cluster masters, reached through a redis+cluster:// REDIS_URL. BullMQ needs
// every key of a flow in one slot, and so do the project's own scripts (downloads'
// index, cancel, idempotency claim, origin rate limit) and pipelines: a key of another
// slot would fail with CROSSSLOT. Downloads of every shape run here (a flow of chunks
// with an Idempotency-Key, a single job that repeats flags through the validators hash,
// a cancel, the list), and then every key in the Cluster is checked: the prefix's keys
// all hash to one slot (CLUSTER KEYSLOT) and that slot holds them all (COUNTKEYSINSLOT);
// the only others are the API's rate-limit counters, one key per client by design.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseApiKeys } from '@flagship/api';
import {
  COUNTRY_CODES,
  HttpContracts,
  IDEMPOTENCY_KEY_HEADER,
  REFERENCE_CODES,
  type DownloadStatus,
} from '@flagship/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet, startPipeline, type Pipeline } from './support/pipeline.ts';
import { startRedisCluster, waitFor, type RedisClusterSet } from './support/redis-ha.ts';

const PASSWORD = randomBytes(12).toString('hex');
const KEY = randomBytes(16).toString('hex');
const AUTH = { authorization: `Bearer ${KEY}` };

let cluster: RedisClusterSet | undefined;
let pipeline: Pipeline | undefined;

beforeAll(async () => {
  [cluster] = await Promise.all([startRedisCluster({ password: PASSWORD, masters: 3 }), originDataSet()]);
});

afterAll(async () => {
  await pipeline?.close();
  await cluster?.stop();
});

async function submit(p: Pipeline, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${p.api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH, ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return HttpContracts.downloadAccepted.parse(await response.json()).id;
}

async function status(p: Pipeline, id: string): Promise<DownloadStatus> {
  const response = await fetch(`${p.api}/v1/downloads/${id}`, { headers: AUTH });
  expect(response.status).toBe(200);
  return HttpContracts.downloadStatus.parse(await response.json());
}

async function finished(p: Pipeline, id: string): Promise<DownloadStatus> {
  let last: DownloadStatus | undefined;
  await waitFor(
    `download ${id} finished`,
    async () => ['completed', 'failed', 'cancelled'].includes((last = await status(p, id)).state),
    60_000,
  );
  return last!;
}

describe('Redis Cluster', () => {
  it('runs downloads of every shape on three masters, every key of the prefix in one slot', async () => {
    const set = cluster!;
    const p = (pipeline = await startPipeline({
      redisUrl: set.url,
      redisOverrides: { natMap: set.natMap },
      workers: 2,
      // The origin rate limit's bucket is a key and a script too; high enough not to slow the test.
      workerEnv: { ORIGIN_RATE_LIMIT: '5000' },
      api: {
        apiKeys: parseApiKeys(`tests:${KEY}:admin`),
        rateLimit: { max: 1_000_000, windowMs: 60_000 },
      },
    }));

    // A flow of ten chunks, its submit claimed under an Idempotency-Key (a repeat gets the same download).
    const key = randomUUID();
    const all = await submit(p, { all: true }, { [IDEMPOTENCY_KEY_HEADER]: key });
    expect(await submit(p, { all: true }, { [IDEMPOTENCY_KEY_HEADER]: key })).toBe(all);
    const allStatus = await finished(p, all);
    expect(allStatus).toMatchObject({ state: 'completed', total: 250, saved: 250, notFound: 0, failed: 0 });
    expect(allStatus.outcomes.map((o) => o.code).sort()).toEqual([...COUNTRY_CODES].sort());
    for (const outcome of allStatus.outcomes) {
      const saved = await readFile(path.join(p.downloadsDir, outcome.file ?? ''));
      expect(saved.equals(p.dataSet.get(outcome.code)!.gif.body), outcome.code).toBe(true);
    }

    // A single job, on flags saved already: the validators hash turns them into 304s.
    const again = await finished(p, await submit(p, {}));
    expect(again).toMatchObject({ state: 'completed', total: 20, saved: 20 });
    expect(again.outcomes.map((o) => o.code)).toEqual(REFERENCE_CODES);
    expect(again.outcomes.every((o) => o.unchanged === true)).toBe(true);

    // A cancel: the mark, the stream entry and the PUBLISH in one script.
    const cancelled = await submit(p, { all: true });
    const cancel = await fetch(`${p.api}/v1/downloads/${cancelled}`, { method: 'DELETE', headers: AUTH });
    expect([202, 409]).toContain(cancel.status);
    expect(['cancelled', 'completed']).toContain((await finished(p, cancelled)).state);

    // The list walks the index's sorted sets and records in one script.
    const list = HttpContracts.downloadList.parse(
      await (await fetch(`${p.api}/v1/downloads?limit=10`, { headers: AUTH })).json(),
    );
    expect(list.items.map((item) => item.id).sort()).toEqual([all, again.id, cancelled].sort());

    // Every key in the Cluster: the prefix's in one slot, which holds them all.
    const admin = await set.admin();
    const keys = (
      await Promise.all(
        admin.nodes('master').map((node) => node.keys('*')), // a test Cluster: KEYS is fine here
      )
    ).flat();
    const slot = Number(await admin.cluster('KEYSLOT', p.prefix));
    const ours = keys.filter((k) => k.startsWith(`${p.prefix}:`));
    const others = keys.filter((k) => !k.startsWith(`${p.prefix}:`));
    const slots = new Set(await Promise.all(ours.map(async (k) => Number(await admin.cluster('KEYSLOT', k)))));
    // Asked of every master: only the slot's owner counts anything.
    const counts = await Promise.all(admin.nodes('master').map((node) => node.cluster('COUNTKEYSINSLOT', slot)));
    const inSlot = counts.reduce((sum: number, count) => sum + Number(count), 0);
    console.info(
      `redis cluster: 3 masters; ${ours.length} keys under ${p.prefix}, all in slot ${slot} ` +
        `(COUNTKEYSINSLOT ${inSlot}); other keys: ${others.join(', ') || 'none'}`,
    );
    expect(ours.length).toBeGreaterThan(20);
    expect([...slots]).toEqual([slot]);
    expect(inSlot).toBe(ours.length);
    expect(others.every((k) => k.startsWith('flagship:rate-limit:'))).toBe(true);
  });
});
