// Cancelling a download over in-memory queues: the status it answers (cancelled, the
// counts so far, whatever the job does after), 409 for a finished download, 404 for
// none, a repeat that answers the same, and the downloads' index told once.
import { describe, expect, it } from 'vitest';
import { DownloadNotFoundError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import {
  CREATED_AT,
  DOWNLOAD_ID,
  ok,
  notFound,
  progress,
  result,
  snapshot,
  summary,
} from '../test-support/fixtures.ts';
import { DownloadFinishedError, cancelDownload } from './cancel-download.ts';
import { toDownloadStatus } from './download-status.ts';

const CANCELLED_AT = CREATED_AT + 2_500;

function running() {
  return snapshot({
    state: 'waiting-children',
    chunks: [
      { jobId: `${DOWNLOAD_ID}-c0`, status: 'completed', started: true, result: result(0, [ok('BR'), notFound('CN')]) },
      { jobId: `${DOWNLOAD_ID}-c1`, status: 'pending', started: true, progress: progress(1, [ok('IN')]) },
    ],
  });
}

describe('cancelDownload', () => {
  it('answers the cancelled status with the counts so far, and records it in the index once', async () => {
    const queues = createFakeDownloadQueues();
    queues.snapshots.set(DOWNLOAD_ID, running());
    queues.index.put({ id: DOWNLOAD_ID, state: 'running', total: 4, createdAt: CREATED_AT });
    const deps = { queues, now: () => CANCELLED_AT };

    const status = await cancelDownload(DOWNLOAD_ID, deps);
    expect(status).toMatchObject({
      id: DOWNLOAD_ID,
      state: 'cancelled',
      total: 4,
      done: 3,
      saved: 2,
      notFound: 1,
      failed: 0,
      elapsedSeconds: 2.5,
      finishedAt: new Date(CANCELLED_AT).toISOString(),
      message: 'cancelled: 2 flags downloaded in 2.50s (1 not found)',
      files: ['BR_Country_BR.gif', 'IN_Country_IN.gif'],
    });
    expect(status.outcomes.map((o) => o.code)).toEqual(['BR', 'CN', 'IN']);
    expect(status.failedReason).toBeUndefined();
    const recorded = { state: 'cancelled', done: 3, saved: 2, notFound: 1, failed: 0, finishedAt: CANCELLED_AT };
    expect(queues.index.records.get(DOWNLOAD_ID)).toMatchObject(recorded);

    // Again, later: the same answer, the index not written again.
    const again = await cancelDownload(DOWNLOAD_ID, { ...deps, now: () => CANCELLED_AT + 1_000 });
    expect(again).toEqual(status);
    expect(queues.index.records.get(DOWNLOAD_ID)).toMatchObject(recorded);
  });

  it('refuses a download that completed or failed first: 409, nothing changed', async () => {
    const queues = createFakeDownloadQueues();
    queues.snapshots.set(DOWNLOAD_ID, snapshot({ state: 'completed', returnValue: summary([ok('BR')]), chunks: [] }));
    const error = await cancelDownload(DOWNLOAD_ID, { queues }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadFinishedError);
    expect(error).toMatchObject({ status: 409, code: 'FLAGSHIP_DOWNLOAD_FINISHED' });
    expect((error as Error).message).toContain('completed');
    expect(queues.snapshots.get(DOWNLOAD_ID)?.cancelledAt).toBeUndefined();
  });

  it('answers 404 for no such download', async () => {
    const queues = createFakeDownloadQueues();
    await expect(cancelDownload(DOWNLOAD_ID, { queues })).rejects.toBeInstanceOf(DownloadNotFoundError);
  });

  it('stays cancelled once the mark has expired: the job failed for good because of the cancel', async () => {
    const queues = createFakeDownloadQueues();
    queues.snapshots.set(
      DOWNLOAD_ID,
      snapshot({ state: 'failed', failedReason: 'download cancelled', finishedAt: CANCELLED_AT, chunks: [] }),
    );
    await expect(cancelDownload(DOWNLOAD_ID, { queues })).resolves.toMatchObject({ state: 'cancelled' });
  });

  it('logs a failing index write and still answers the cancel', async () => {
    const queues = createFakeDownloadQueues();
    queues.snapshots.set(DOWNLOAD_ID, running());
    queues.index.finished = () => Promise.reject(new Error('index down'));
    const warnings: unknown[] = [];
    const status = await cancelDownload(DOWNLOAD_ID, {
      queues,
      logger: { warn: (...args: unknown[]) => void warnings.push(args) },
    });
    expect(status.state).toBe('cancelled');
    expect(warnings).toHaveLength(1);
  });
});

describe('the status of a cancelled download', () => {
  it('leaves the undecided flags of a single job failed by the cancel undecided, not ERROR', () => {
    const own = {
      jobId: DOWNLOAD_ID,
      status: 'failed' as const,
      started: true,
      progress: progress(0, [ok('BR')]),
      codes: ['BR', 'CN'],
      failedReason: 'download cancelled',
    };
    const status = toDownloadStatus(
      snapshot({
        state: 'failed',
        data: { codes: ['BR', 'CN'], inline: true },
        failedReason: 'download cancelled',
        finishedAt: CANCELLED_AT + 300,
        cancelledAt: CANCELLED_AT,
        chunks: [own],
      }),
      CANCELLED_AT + 10_000,
    );
    expect(status).toMatchObject({ state: 'cancelled', total: 2, done: 1, saved: 1, failed: 0, elapsedSeconds: 2.5 });
    expect(status.outcomes).toEqual([ok('BR')]);
  });

  it('stays cancelled when the job completed after the cancel, with the summary as the counts', () => {
    const all = [ok('BR'), ok('CN')];
    const status = toDownloadStatus(
      snapshot({
        state: 'completed',
        returnValue: summary(all, 3),
        finishedAt: CANCELLED_AT + 50,
        cancelledAt: CANCELLED_AT,
        chunks: [],
      }),
      CANCELLED_AT + 10_000,
    );
    expect(status).toMatchObject({
      state: 'cancelled',
      done: 2,
      saved: 2,
      finishedAt: new Date(CANCELLED_AT).toISOString(),
    });
    expect(status.message).toBe('cancelled: 2 flags downloaded in 3.00s');
  });

  it('counts a queued download cancelled before any flag as nothing done', () => {
    const status = toDownloadStatus(snapshot({ cancelledAt: CANCELLED_AT }), CANCELLED_AT + 10_000);
    expect(status).toMatchObject({ state: 'cancelled', total: 4, done: 0, files: [], outcomes: [] });
  });
});
