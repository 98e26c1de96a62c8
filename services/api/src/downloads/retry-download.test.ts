import type { FlagOutcome } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { DownloadGoneError, DownloadNotFoundError, RetryConflictError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, completedSnapshot, notFound, ok, snapshot } from '../test-support/fixtures.ts';
import { codesToRetry, retryDownload } from './retry-download.ts';

const error = (code: string): FlagOutcome => ({ code, status: 'ERROR', reason: 'origin answered 500', attempts: 3 });
const NEW_ID = '00000000-0000-4000-8000-000000000009';

function setup() {
  const queues = createFakeDownloadQueues();
  return { queues, deps: { queues, chunkSize: 25, newId: () => NEW_ID, now: () => 0 } };
}

describe('codesToRetry', () => {
  const outcomes = [ok('BR'), error('CN'), notFound('IN')];

  it('takes the ERROR flags and those without an outcome, in request order', () => {
    expect(codesToRetry(['BR', 'CN', 'IN', 'US'], outcomes, false)).toEqual(['CN', 'US']);
  });

  it('takes NOT_FOUND too when asked', () => {
    expect(codesToRetry(['BR', 'CN', 'IN', 'US'], outcomes, true)).toEqual(['CN', 'IN', 'US']);
  });
});

describe('retryDownload', () => {
  it('adds a new download of the failed flags only, linked by retryOf', async () => {
    const { queues, deps } = setup();
    const outcomes = [ok('BR'), error('CN'), notFound('IN'), error('US')];
    queues.snapshots.set(DOWNLOAD_ID, completedSnapshot(outcomes));
    const accepted = await retryDownload(DOWNLOAD_ID, {}, deps);
    expect(accepted).toMatchObject({ id: NEW_ID, state: 'queued', total: 2, retryOf: DOWNLOAD_ID });
    expect(queues.added[0]).toMatchObject({ data: { codes: ['CN', 'US'], retryOf: DOWNLOAD_ID } });
    expect(queues.index.records.get(NEW_ID)).toMatchObject({ retryOf: DOWNLOAD_ID, total: 2 });
  });

  it('retries NOT_FOUND flags with include=not_found', async () => {
    const { queues, deps } = setup();
    queues.snapshots.set(DOWNLOAD_ID, completedSnapshot([ok('BR'), notFound('CN')]));
    await expect(retryDownload(DOWNLOAD_ID, {}, deps)).rejects.toThrow(RetryConflictError);
    expect(await retryDownload(DOWNLOAD_ID, { include: 'not_found' }, deps)).toMatchObject({ total: 1 });
    expect(queues.added[0]).toMatchObject({ data: { codes: ['CN'] } });
  });

  it("retries a failed download's flags that never got an outcome", async () => {
    const { queues, deps } = setup();
    queues.snapshots.set(
      DOWNLOAD_ID,
      snapshot({
        state: 'failed',
        failedReason: 'boom',
        chunks: [{ jobId: `${DOWNLOAD_ID}-c0`, status: 'pending', started: true, progress: undefined }],
      }),
    );
    expect(await retryDownload(DOWNLOAD_ID, {}, deps)).toMatchObject({ total: 4 });
  });

  it('refuses a download that is not finished: 409', async () => {
    const { queues, deps } = setup();
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    await expect(retryDownload(DOWNLOAD_ID, {}, deps)).rejects.toThrow(/is queued/);
    expect(queues.added).toHaveLength(0);
  });

  it('answers 404 for an unknown download and 410 for one past its retention', async () => {
    const { queues, deps } = setup();
    await expect(retryDownload(DOWNLOAD_ID, {}, deps)).rejects.toBeInstanceOf(DownloadNotFoundError);
    queues.index.expired.add(DOWNLOAD_ID);
    await expect(retryDownload(DOWNLOAD_ID, {}, deps)).rejects.toBeInstanceOf(DownloadGoneError);
  });
});
