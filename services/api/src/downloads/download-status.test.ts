import { describe, expect, it } from 'vitest';
import { DownloadNotFoundError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import {
  CREATED_AT,
  DOWNLOAD_ID,
  notFound,
  ok,
  progress,
  result,
  snapshot,
  summary,
} from '../test-support/fixtures.ts';
import { getDownloadStatus, toDownloadStatus } from './download-status.ts';

const NOW = CREATED_AT + 1_500;

describe('toDownloadStatus', () => {
  it('is queued while no chunk has started', () => {
    const status = toDownloadStatus(snapshot(), NOW);
    expect(status).toMatchObject({ state: 'queued', total: 4, done: 0, saved: 0, elapsedSeconds: 1.5 });
    expect(status.outcomes).toEqual([]);
    expect(status.message).toBeUndefined();
    expect(status.finishedAt).toBeUndefined();
  });

  it('reads a single-job download from its own progress: queued while waiting, then running', () => {
    const own = { jobId: DOWNLOAD_ID, status: 'pending' as const, started: false };
    const single = (state: string, chunk: typeof own & { progress?: unknown }) =>
      snapshot({ state, data: { codes: ['BR', 'CN'], inline: true }, chunks: [chunk] });
    expect(toDownloadStatus(single('waiting', own), NOW)).toMatchObject({ state: 'queued', total: 2, done: 0 });
    expect(toDownloadStatus(single('prioritized', own), NOW).state).toBe('queued');
    expect(toDownloadStatus(single('active', { ...own, started: true }), NOW).state).toBe('running');
    const running = toDownloadStatus(
      single('active', { ...own, started: true, progress: progress(0, [notFound('CN')]) }),
      NOW,
    );
    expect(running).toMatchObject({ state: 'running', total: 2, done: 1, notFound: 1 });
    // A retry waiting for its backoff has started before: running, not queued.
    expect(toDownloadStatus(single('delayed', { ...own, started: true }), NOW).state).toBe('running');
  });

  it('is running once a chunk started, even before its first outcome', () => {
    const chunks = snapshot().chunks.map((c, i) => ({ ...c, started: i === 0 }));
    expect(toDownloadStatus(snapshot({ chunks }), NOW).state).toBe('running');
  });

  it('counts finished chunks from their results and running ones from their progress, in request order', () => {
    const status = toDownloadStatus(
      snapshot({
        chunks: [
          { jobId: 'c1', status: 'pending', started: true, progress: progress(1, [notFound('US')]) },
          { jobId: 'c0', status: 'completed', started: true, result: result(0, [ok('CN'), ok('BR')]) },
        ],
      }),
      NOW,
    );
    expect(status).toMatchObject({ state: 'running', total: 4, done: 3, saved: 2, notFound: 1, failed: 0 });
    expect(status.outcomes.map((o) => o.code)).toEqual(['BR', 'CN', 'US']);
    expect(status.files).toEqual(['BR_Country_BR.gif', 'CN_Country_CN.gif']);
  });

  it('reports the codes of a chunk that failed for good as failed, keeping what it had decided', () => {
    const status = toDownloadStatus(
      snapshot({
        chunks: [
          {
            jobId: 'c1',
            status: 'failed',
            started: true,
            codes: ['IN', 'US'],
            progress: progress(1, [ok('IN')]),
            failedReason: 'worker crashed',
          },
        ],
      }),
      NOW,
    );
    expect(status.outcomes).toEqual([ok('IN'), { code: 'US', status: 'ERROR', reason: 'worker crashed', attempts: 0 }]);
    expect(status).toMatchObject({ saved: 1, failed: 1, done: 2 });
  });

  it('reads a completed download from its summary', () => {
    const outcomes = [ok('BR'), ok('CN'), notFound('IN'), ok('US')];
    const status = toDownloadStatus(
      snapshot({ state: 'completed', finishedAt: CREATED_AT + 40, returnValue: summary(outcomes, 0.04), chunks: [] }),
      NOW + 10_000,
    );
    expect(status).toMatchObject({
      state: 'completed',
      total: 4,
      done: 4,
      saved: 3,
      notFound: 1,
      failed: 0,
      elapsedSeconds: 0.04,
      finishedAt: new Date(CREATED_AT + 40).toISOString(),
      message: '3 flags downloaded in 0.04s',
    });
    expect(status.outcomes).toEqual(outcomes);
  });

  it('falls back to the chunks, with a computed report, when the summary is unreadable', () => {
    const status = toDownloadStatus(
      snapshot({
        state: 'completed',
        finishedAt: CREATED_AT + 2_000,
        returnValue: { total: 'lots' },
        chunks: [{ jobId: 'c0', status: 'completed', started: true, result: result(0, [ok('BR')]) }],
      }),
      NOW,
    );
    expect(status).toMatchObject({ state: 'completed', saved: 1, elapsedSeconds: 2 });
    expect(status.message).toBe('1 flag downloaded in 2.00s');
  });

  it('reports a failed download with its reason', () => {
    const status = toDownloadStatus(
      snapshot({ state: 'failed', failedReason: 'store unavailable', finishedAt: CREATED_AT + 3_000 }),
      NOW,
    );
    expect(status).toMatchObject({
      state: 'failed',
      failedReason: 'store unavailable',
      message: 'download failed: store unavailable',
      elapsedSeconds: 3,
    });
  });

  it('says a failed download failed for an unknown reason when the queue gave none, and nothing else does', () => {
    const status = toDownloadStatus(snapshot({ state: 'failed', finishedAt: CREATED_AT + 3_000 }), NOW);
    expect(status).toMatchObject({ failedReason: 'unknown reason', message: 'download failed: unknown reason' });
    expect(toDownloadStatus(snapshot(), NOW).failedReason).toBeUndefined();
  });

  it('ignores poisoned job data: progress and results that break the contract, outcomes for codes not asked', () => {
    const status = toDownloadStatus(
      snapshot({
        chunks: [
          {
            jobId: 'c0',
            status: 'pending',
            started: true,
            progress: { outcomes: [{ code: '../../x', status: 'OK' }] },
          },
          { jobId: 'c1', status: 'completed', started: true, result: 'not an object' },
          { jobId: 'c2', status: 'pending', started: true, progress: progress(2, [ok('FR')]) },
        ],
      }),
      NOW,
    );
    expect(status).toMatchObject({ state: 'running', done: 0, saved: 0, outcomes: [], files: [] });
  });

  it('reports nothing for parent data that is not a code list', () => {
    expect(toDownloadStatus(snapshot({ data: { codes: 'BR' } }), NOW)).toMatchObject({ total: 0, outcomes: [] });
  });
});

describe('getDownloadStatus', () => {
  it('throws DownloadNotFoundError for an unknown id', async () => {
    await expect(getDownloadStatus(DOWNLOAD_ID, { queues: createFakeDownloadQueues() })).rejects.toThrow(
      DownloadNotFoundError,
    );
  });
});
