// The core pipeline in one process on a real Redis: API → BullMQ (one job for a
// download that fits a chunk, a flow of chunks for a larger one) → worker → origin →
// saved flags, followed over Server-Sent Events. Faults at the origin are
// retried, missing flags are NOT_FOUND, flags that keep failing are ERROR, and what is
// saved is byte-identical to what the origin serves.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { HttpContracts, REFERENCE_CODES, type DownloadStatus, type FlagOutcome } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { pipelinePerTest, type Pipeline } from './support/pipeline.ts';
import { readSse } from './support/sse.ts';

const { start } = pipelinePerTest();

async function post(p: Pipeline, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${p.api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Submit and follow the events to the end, like the CLI does. */
async function download(p: Pipeline, body: unknown): Promise<{ summary: DownloadStatus; events: string[] }> {
  const { status, json } = await post(p, body);
  expect(status).toBe(202);
  const events = await readSse(`${p.api}/v1/downloads/${String(json.id)}/events`, (e) =>
    ['completed', 'failed'].includes(e.event),
  );
  expect(events.at(-1)?.event).toBe('completed');
  const summary = HttpContracts.downloadStatus.parse(
    await (await fetch(`${p.api}/v1/downloads/${String(json.id)}`)).json(),
  );
  return { summary, events: events.map((e) => e.event) };
}

function byCode(summary: DownloadStatus): Map<string, FlagOutcome> {
  return new Map(summary.outcomes.map((outcome) => [outcome.code, outcome]));
}

describe('core pipeline', () => {
  it('saves the reference 20 flags (one job) byte-identical to the origin, with the reference report', async () => {
    const p = await start();
    const { summary, events } = await download(p, {});
    expect(events[0]).toBe('status');
    expect(summary).toMatchObject({ total: 20, saved: 20, notFound: 0, failed: 0 });
    expect(summary.message).toMatch(/^20 flags downloaded in \d+\.\d\ds$/);
    expect(summary.outcomes.map((o) => o.code)).toEqual(REFERENCE_CODES);
    expect(summary.files).toContain('US_United_States.gif');
    expect((await readdir(p.downloadsDir)).sort()).toEqual([...summary.files].sort());
    for (const outcome of summary.outcomes) {
      const saved = await readFile(path.join(p.downloadsDir, outcome.file ?? ''));
      expect(saved.equals(p.dataSet.get(outcome.code)!.gif.body), outcome.code).toBe(true);
      const served = Buffer.from(
        await (await fetch(`${p.api}/v1/flags/${encodeURIComponent(outcome.file ?? '')}`)).arrayBuffer(),
      );
      expect(served.equals(saved), outcome.code).toBe(true);
    }
  });

  it.each([
    ['one job (fits a chunk)', 25],
    ['a flow of 3 chunks', 2],
  ])('streams per-flag progress while a slow download runs, as %s', async (_, chunkSize) => {
    // Six flags, two at a time, each response held 100-150 ms: the download runs for
    // about 300 ms or more, long after the event stream has connected.
    const p = await start({
      faults: { delayMs: [100, 150], seed: 1 },
      workerEnv: { FLAG_CONCURRENCY: '2' },
      chunkSize,
    });
    const { status, json } = await post(p, { codes: ['SE', 'NO', 'FI', 'DK', 'IS', 'EE'] });
    expect(status).toBe(202);
    const events = await readSse(`${p.api}/v1/downloads/${String(json.id)}/events`, (e) => e.event === 'completed');
    const progress = events
      .map((e) => HttpContracts.downloadEvent.parse({ event: e.event, data: JSON.parse(e.data) as unknown }))
      .flatMap((e) => (e.event === 'progress' ? [e.data] : []));
    expect(progress.length).toBeGreaterThan(1);
    const done = progress.map((e) => e.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(6);
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ state: 'completed', saved: 6 });
  });

  it('downloads every country with "all": true over several chunks', async () => {
    const p = await start({ chunkSize: 25 });
    const { summary } = await download(p, { all: true });
    expect(summary.total).toBe(p.dataSet.codes.length);
    expect(summary.saved).toBe(summary.total);
    expect(new Set(summary.files).size).toBe(summary.total);
    expect((await readdir(p.downloadsDir)).length).toBe(summary.total);
  });

  it('retries a flaky, slow origin until every flag is saved, and counts the attempts', async () => {
    const p = await start({
      faults: { errorRate: 0.35, seed: 7, delayMs: [0, 15] },
      workerEnv: { FLAG_ATTEMPTS: '8' },
      chunkSize: 10,
    });
    const { summary } = await download(p, { codes: REFERENCE_CODES });
    expect(summary).toMatchObject({ saved: 20, failed: 0 });
    expect(summary.outcomes.some((o) => o.attempts > 1)).toBe(true);
    expect((await readdir(p.downloadsDir)).length).toBe(20);
  });

  it('reports a flag the origin lacks as NOT_FOUND and one that keeps failing as ERROR', async () => {
    const p = await start({ missingCodes: ['DK'], faults: { failCodes: ['BR'] }, workerEnv: { FLAG_ATTEMPTS: '2' } });
    const { summary } = await download(p, { codes: ['cn', 'DK', 'br', 'CN'] });
    const outcomes = byCode(summary);
    expect(summary).toMatchObject({ total: 3, saved: 1, notFound: 1, failed: 1 });
    expect(outcomes.get('DK')).toMatchObject({ status: 'NOT_FOUND', attempts: 1 });
    expect(outcomes.get('BR')).toMatchObject({ status: 'ERROR', attempts: 2 });
    expect(outcomes.get('BR')?.reason).toMatch(/500/);
    expect(summary.message).toMatch(/^1 flag downloaded in .*s \(1 not found, 1 failed\)$/);
    expect(await readdir(p.downloadsDir)).toEqual(['CN_China.gif']);
  });

  it('downloading the same flags again gives the same files, no duplicates and no temp files', async () => {
    const p = await start();
    const first = await download(p, { codes: ['FR', 'JP'] });
    const second = await download(p, { codes: ['jp', 'fr'] });
    expect(second.summary.saved).toBe(2);
    expect((await readdir(p.downloadsDir)).sort()).toEqual([...first.summary.files].sort());
  });

  it('rejects bad input with problem+json and enqueues nothing', async () => {
    const p = await start();
    for (const body of [{ codes: ['ZZ'] }, { codes: ['CN'], all: true }, { codes: [] }, { codes: ['C'] }]) {
      const { status, json } = await post(p, body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.status).toBe(400);
    }
    expect(await readdir(p.downloadsDir)).toEqual([]);
  });
});
