import type { ChunkResult, FlagOutcome } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { finishDownload } from './finish-download.ts';

const ok = (code: string): FlagOutcome => ({
  code,
  status: 'OK',
  country: code,
  file: `${code}_${code}.gif`,
  bytes: 10,
  attempts: 1,
});
const result = (chunk: number, outcomes: FlagOutcome[], downloadId = 'd1'): ChunkResult => ({
  downloadId,
  chunk,
  outcomes,
});

describe('finishDownload', () => {
  it('joins the chunk results into a summary in request order', () => {
    const summary = finishDownload({
      downloadId: 'd1',
      codes: ['CN', 'IN', 'US', 'XK'],
      childrenValues: {
        'bull:flags:d1-c1': result(1, [ok('US'), { code: 'XK', status: 'NOT_FOUND', reason: '404', attempts: 1 }]),
        'bull:flags:d1-c0': result(0, [ok('CN'), ok('IN')]),
      },
      failedChunks: [],
      elapsedSeconds: 0.04,
    });
    expect(summary.outcomes.map((outcome) => outcome.code)).toEqual(['CN', 'IN', 'US', 'XK']);
    expect(summary).toMatchObject({ total: 4, saved: 3, notFound: 1, failed: 0, elapsedSeconds: 0.04 });
    expect(summary.files).toEqual(['CN_CN.gif', 'IN_IN.gif', 'US_US.gif']);
    expect(summary.message).toBe('3 flags downloaded in 0.04s (1 not found)');
  });

  it("reports a failed chunk's flags as ERROR with the chunk's reason, keeping what it had saved", () => {
    const summary = finishDownload({
      downloadId: 'd1',
      codes: ['CN', 'IN', 'US', 'DK'],
      childrenValues: { k0: result(0, [ok('CN'), ok('IN')]) },
      failedChunks: [
        { key: 'k1', reason: 'ENOSPC: no space left on device', codes: ['US', 'DK'], decided: [ok('US')] },
      ],
      elapsedSeconds: 1,
    });
    expect(summary).toMatchObject({ saved: 3, failed: 1 });
    expect(summary.outcomes[3]).toEqual({
      code: 'DK',
      status: 'ERROR',
      reason: 'chunk failed: ENOSPC: no space left on device',
      attempts: 0,
    });
  });

  it("falls back to the failure reasons when a failed chunk's codes are unknown", () => {
    const summary = finishDownload({
      downloadId: 'd1',
      codes: ['CN', 'IN'],
      childrenValues: { k0: result(0, [ok('CN')]) },
      failedChunks: [{ key: 'k1', reason: 'job stalled more than allowable limit' }],
      elapsedSeconds: 1,
    });
    expect(summary.outcomes[1]).toMatchObject({
      status: 'ERROR',
      reason: 'chunk failed: job stalled more than allowable limit',
    });
  });

  it('skips a poisoned child value and reports it', () => {
    const invalid: string[] = [];
    const summary = finishDownload({
      downloadId: 'd1',
      codes: ['CN', 'IN'],
      childrenValues: {
        good: result(0, [ok('CN')]),
        poison: { downloadId: 'd1', chunk: 1, outcomes: [{ code: 'IN', status: 'MAYBE', attempts: 1 }] },
        other: result(2, [ok('IN')], 'another-download'),
        junk: 'not even an object',
      },
      failedChunks: [],
      elapsedSeconds: 1,
      onInvalidResult: (key) => invalid.push(key),
    });
    expect(invalid.sort()).toEqual(['junk', 'other', 'poison']);
    expect(summary.outcomes[1]).toMatchObject({ code: 'IN', status: 'ERROR' });
    expect(summary.saved).toBe(1);
  });

  it('never reports a negative elapsed time (clock skew between hosts)', () => {
    const summary = finishDownload({
      downloadId: 'd1',
      codes: ['CN'],
      childrenValues: { k: result(0, [ok('CN')]) },
      failedChunks: [],
      elapsedSeconds: -0.5,
    });
    expect(summary.elapsedSeconds).toBe(0);
  });
});
