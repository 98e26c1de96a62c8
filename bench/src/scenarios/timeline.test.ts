import { describe, expect, it } from 'vitest';
import { timeline } from './timeline.ts';

describe('timeline', () => {
  const job = { addedAtMs: 1_000_002, firstStartAtMs: 1_000_004, finishedAtMs: 1_000_030 };
  const requests = [
    { startMs: 1_000_006, endMs: 1_000_007, uri: '/data/flags/cn/cn.gif' },
    { startMs: 1_000_005, endMs: 1_000_009, uri: '/data/flags/cn/metadata.json' },
    { startMs: 1_000_020, endMs: 1_000_024, uri: '/data/flags/fr/fr.gif' },
  ];

  it('puts every step after the POST, in milliseconds', () => {
    expect(timeline(1_000_000.5, 0.25, job, requests)).toEqual({
      jobAdded: 1.5,
      firstJobStarted: 3.5,
      firstOriginRequest: 4.5,
      lastOriginResponse: 23.5,
      downloadFinished: 29.5,
      completedAtClient: 250,
    });
  });

  it('refuses a download nginx saw no request of (wrong origin, or the log is not read)', () => {
    expect(() => timeline(1_000_000, 0.03, job, [])).toThrow(/no origin request/);
  });
});
