// The worker's writes to the downloads' index, against a recording fake of the index:
// which transitions it asks for, with which counts and retention, and that a failing
// write is logged without failing anything.
import type { DownloadCounts, DownloadIndex, FinishedDownload, FlagOutcome } from '@flagship/common';
import { DEFAULT_RETENTION, summarize } from '@flagship/common';
import { silentLogger } from '@flagship/runtime';
import type { Job } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { createDownloadIndexWriter } from './index-writer.ts';

const ok = (code: string): FlagOutcome => ({ code, status: 'OK', file: `${code}.gif`, bytes: 1, attempts: 1 });
const error = (code: string): FlagOutcome => ({ code, status: 'ERROR', reason: '500', attempts: 3 });
const missing = (code: string): FlagOutcome => ({ code, status: 'NOT_FOUND', reason: '404', attempts: 1 });

function fakeIndex() {
  const calls: Array<['advanced', string, DownloadCounts | undefined] | ['finished', string, FinishedDownload]> = [];
  const index: Pick<DownloadIndex, 'advanced' | 'finished'> = {
    advanced: async (id, delta) => (calls.push(['advanced', id, delta]), true),
    finished: async (id, finish) => (calls.push(['finished', id, finish]), true),
  };
  return { index, calls };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function job(fields: Partial<Job>): Job {
  return { id: 'd1', timestamp: 1_000, data: { codes: ['CN', 'IN'] }, opts: {}, ...fields } as Job;
}

describe('createDownloadIndexWriter', () => {
  it('marks the download running when a chunk starts, then writes only what changed at each report', async () => {
    const { index, calls } = fakeIndex();
    const writer = createDownloadIndexWriter({ index, logger: silentLogger() });
    const report = writer.chunkStarted('d1', [ok('CN'), error('IN')]); // an earlier attempt's progress
    report([ok('CN')]); // the ERROR is tried again: no longer decided
    report([ok('CN')]);
    report([ok('CN'), missing('IN'), ok('US')]);
    await settle();
    expect(calls).toEqual([
      ['advanced', 'd1', undefined],
      ['advanced', 'd1', { done: -1, saved: 0, notFound: 0, failed: -1 }],
      ['advanced', 'd1', { done: 2, saved: 1, notFound: 1, failed: 0 }],
    ]);
  });

  it("completes with the summary's counts, the job's retention, and what the job knows of the download", async () => {
    const { index, calls } = fakeIndex();
    const writer = createDownloadIndexWriter({ index, logger: silentLogger(), now: () => 5_000 });
    const summary = summarize(['CN', 'IN', 'US'], [ok('CN'), missing('IN'), error('US')], 1);
    const removeOnComplete = { age: 60, count: 7 };
    await writer.completed(
      job({ data: { codes: ['CN', 'IN', 'US'], retryOf: 'd0' }, opts: { removeOnComplete } }),
      summary,
    );
    expect(calls).toEqual([
      [
        'finished',
        'd1',
        {
          state: 'completed',
          counts: { done: 3, saved: 1, notFound: 1, failed: 1 },
          finishedAt: 5_000,
          retention: { ageSeconds: 60, count: 7 },
          known: { id: 'd1', total: 3, createdAt: 1_000, retryOf: 'd0' },
        },
      ],
    ]);
  });

  it('fails without counts (the counts so far stay), with the default retention for a job that has none', async () => {
    const { index, calls } = fakeIndex();
    const writer = createDownloadIndexWriter({ index, logger: silentLogger(), now: () => 5_000 });
    await writer.failed(job({ data: 'poisoned' }));
    expect(calls).toEqual([['finished', 'd1', { state: 'failed', finishedAt: 5_000, retention: DEFAULT_RETENTION }]]);
  });

  it('logs a write that fails, and never throws', async () => {
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    const broken: Pick<DownloadIndex, 'advanced' | 'finished'> = {
      advanced: () => Promise.reject(new Error('Connection is closed')),
      finished: () => Promise.reject(new Error('Connection is closed')),
    };
    const writer = createDownloadIndexWriter({ index: broken, logger });
    writer.chunkStarted('d1', [])([ok('CN')]);
    await expect(writer.completed(job({}), summarize(['CN'], [ok('CN')], 1))).resolves.toBeUndefined();
    await expect(writer.failed(job({}))).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(4);
  });
});
