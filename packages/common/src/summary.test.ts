import { describe, expect, it } from 'vitest';
import type { FlagOutcome } from './contracts.ts';
import { countOutcomes, reportLine, summarize } from './summary.ts';

const ok = (code: string, file = `${code}_X.gif`): FlagOutcome => ({ code, status: 'OK', file, attempts: 1 });

describe('report line', () => {
  it("prints the reference program's line when every flag is saved", () => {
    expect(reportLine({ saved: 20, notFound: 0, failed: 0 }, 0.0412)).toBe('20 flags downloaded in 0.04s');
  });

  it('says "flag" for one and adds what was not saved', () => {
    expect(reportLine({ saved: 1, notFound: 2, failed: 3 }, 1.5)).toBe(
      '1 flag downloaded in 1.50s (2 not found, 3 failed)',
    );
    expect(reportLine({ saved: 0, notFound: 0, failed: 1 }, 0)).toBe('0 flags downloaded in 0.00s (1 failed)');
  });
});

describe('summarize', () => {
  it('orders outcomes and files by the requested codes', () => {
    const summary = summarize(
      ['US', 'CN', 'DK'],
      [ok('CN'), { code: 'DK', status: 'NOT_FOUND', attempts: 1 }, ok('US')],
      0.5,
    );
    expect(summary.outcomes.map((o) => o.code)).toEqual(['US', 'CN', 'DK']);
    expect(summary.files).toEqual(['US_X.gif', 'CN_X.gif']);
    expect(summary).toMatchObject({ total: 3, saved: 2, notFound: 1, failed: 0, elapsedSeconds: 0.5 });
    expect(summary.message).toBe('2 flags downloaded in 0.50s (1 not found)');
  });

  it('counts a code nobody reported on as failed, never as saved', () => {
    const summary = summarize(['CN', 'IN'], [ok('CN')], 1);
    expect(summary.outcomes[1]).toMatchObject({ code: 'IN', status: 'ERROR', attempts: 0 });
    expect(countOutcomes(summary.outcomes)).toEqual({ saved: 1, notFound: 0, failed: 1 });
  });
});
