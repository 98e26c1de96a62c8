import type { FlagOutcome } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { processChunk } from './process-chunk.ts';

const CODES = ['CN', 'IN', 'US', 'DK', 'BR', 'PK', 'NG', 'SE', 'RU', 'JP', 'MX', 'PH'];

const ok = (code: string): FlagOutcome => ({ code, status: 'OK', file: `${code}.gif`, bytes: 1, attempts: 1 });

/** A flag download that waits until the test lets it finish, counting how many run at once. */
function controlledDownloads() {
  const waiting = new Map<string, () => void>();
  const started: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let onStart: () => void = () => {};
  return {
    started,
    get maxRunning() {
      return maxRunning;
    },
    get running() {
      return running;
    },
    /** Resolves when `count` downloads have started in total. */
    untilStarted(count: number): Promise<void> {
      return new Promise((resolve) => {
        const check = () => (started.length >= count ? resolve() : (onStart = check));
        check();
      });
    },
    finish(code: string) {
      waiting.get(code)?.();
    },
    async downloadOne(code: string, signal: AbortSignal): Promise<FlagOutcome> {
      started.push(code);
      running++;
      maxRunning = Math.max(maxRunning, running);
      onStart();
      try {
        await new Promise<void>((resolve, reject) => {
          waiting.set(code, resolve);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
        return ok(code);
      } finally {
        running--;
      }
    },
  };
}

describe('processChunk', () => {
  it('never runs more flags at once than the limit, and returns outcomes in code order', async () => {
    const downloads = controlledDownloads();
    const result = processChunk({
      codes: CODES,
      concurrency: 3,
      downloadOne: (code, signal) => downloads.downloadOne(code, signal),
      signal: new AbortController().signal,
    });
    const done = new Set<string>();
    while (done.size < CODES.length) {
      await downloads.untilStarted(Math.min(done.size + 3, CODES.length));
      expect(downloads.running).toBeLessThanOrEqual(3);
      // Finish the newest first: the result must still follow the order of the codes.
      const newest = downloads.started.filter((code) => !done.has(code)).at(-1) as string;
      done.add(newest);
      downloads.finish(newest);
    }
    const outcomes = await result;
    expect(downloads.maxRunning).toBe(3);
    expect(outcomes.map((outcome) => outcome.code)).toEqual(CODES);
    expect(downloads.started.sort()).toEqual([...CODES].sort());
  });

  it('skips flags a previous attempt saved or found missing, and retries its errors', async () => {
    const previous: FlagOutcome[] = [
      ok('CN'),
      { code: 'IN', status: 'NOT_FOUND', reason: '404', attempts: 1 },
      { code: 'US', status: 'ERROR', reason: 'HTTP 500', attempts: 3 },
      ok('ZZ'), // not in this chunk: ignored
    ];
    const asked: string[] = [];
    const outcomes = await processChunk({
      codes: ['CN', 'IN', 'US', 'DK'],
      concurrency: 2,
      previous,
      downloadOne: async (code) => {
        asked.push(code);
        return ok(code);
      },
      signal: new AbortController().signal,
    });
    expect(asked.sort()).toEqual(['DK', 'US']);
    expect(outcomes).toEqual([ok('CN'), previous[1], ok('US'), ok('DK')]);
  });

  it('reports nothing for a chunk that succeeds within one interval: its result has the outcomes', async () => {
    const reports: FlagOutcome[][] = [];
    const outcomes = await processChunk({
      codes: CODES,
      concurrency: 4,
      progressIntervalMs: 60_000,
      downloadOne: async (code) => ok(code),
      onProgress: (snapshot) => void reports.push(snapshot),
      signal: new AbortController().signal,
    });
    expect(reports).toEqual([]);
    expect(outcomes.map((outcome) => outcome.code)).toEqual(CODES);
  });

  it('reports cumulative progress at once with no interval, and waits for the reports in flight', async () => {
    const reports: number[] = [];
    let written = 0;
    const outcomes = await processChunk({
      codes: ['AA', 'BB', 'CC'],
      concurrency: 1,
      progressIntervalMs: 0,
      downloadOne: async (code) => ok(code),
      onProgress: async (snapshot) => {
        reports.push(snapshot.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        written++;
      },
      signal: new AbortController().signal,
    });
    expect(outcomes).toHaveLength(3);
    expect(reports.at(-1)).toBeLessThanOrEqual(3);
    expect(written).toBe(reports.length); // none still writing when the chunk returned
  });

  it('sends the changes of a busy interval in one later report', async () => {
    const downloads = controlledDownloads();
    const reports: number[] = [];
    let reported: () => void = () => {};
    const result = processChunk({
      codes: ['AA', 'BB', 'CC'],
      concurrency: 3,
      progressIntervalMs: 20,
      downloadOne: (code, signal) => downloads.downloadOne(code, signal),
      onProgress: (snapshot) => {
        reports.push(snapshot.length);
        reported();
      },
      signal: new AbortController().signal,
    });
    await downloads.untilStarted(3);
    const next = new Promise<void>((resolve) => (reported = resolve));
    downloads.finish('AA'); // the first report waits for one interval from the start too
    downloads.finish('BB');
    await next;
    expect(reports).toEqual([2]);
    downloads.finish('CC');
    await result;
    expect(reports).toEqual([2]); // no last report: the result has all three
  });

  it('fails the chunk on a store error, after reporting what was done, and starts nothing more', async () => {
    const reports: FlagOutcome[][] = [];
    const asked: string[] = [];
    const diskFull = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const run = processChunk({
      codes: CODES,
      concurrency: 1,
      downloadOne: async (code) => {
        asked.push(code);
        if (code === 'US') throw diskFull;
        return ok(code);
      },
      onProgress: (snapshot) => void reports.push(snapshot),
      signal: new AbortController().signal,
    });
    await expect(run).rejects.toBe(diskFull);
    expect(asked).toEqual(['CN', 'IN', 'US']);
    expect(reports.at(-1)?.map((outcome) => outcome.code)).toEqual(['CN', 'IN']);
  });

  it('keeps the chunk error when the last progress report fails too', async () => {
    const diskFull = new Error('no space left on device');
    const progressErrors: unknown[] = [];
    const run = processChunk({
      codes: ['CN'],
      concurrency: 1,
      downloadOne: async () => {
        throw diskFull;
      },
      onProgress: () => Promise.reject(new Error('redis down')),
      onProgressError: (error) => progressErrors.push(error),
      signal: new AbortController().signal,
    });
    await expect(run).rejects.toBe(diskFull);
    expect(progressErrors).toHaveLength(1);
  });

  it('succeeds although a progress report failed: a later report or the result carries the same', async () => {
    const progressErrors: unknown[] = [];
    const outcomes = await processChunk({
      codes: ['CN', 'IN'],
      concurrency: 1,
      progressIntervalMs: 0,
      downloadOne: async (code) => ok(code),
      onProgress: () => Promise.reject(new Error('redis down')),
      onProgressError: (error) => progressErrors.push(error),
      signal: new AbortController().signal,
    });
    expect(outcomes).toHaveLength(2);
    expect(progressErrors.length).toBeGreaterThan(0);
  });

  it('on abort, stops starting flags, aborts running ones and reports the finished ones', async () => {
    const downloads = controlledDownloads();
    const controller = new AbortController();
    const reports: FlagOutcome[][] = [];
    const run = processChunk({
      codes: CODES,
      concurrency: 2,
      downloadOne: (code, signal) => downloads.downloadOne(code, signal),
      onProgress: (snapshot) => void reports.push(snapshot),
      signal: controller.signal,
    });
    await downloads.untilStarted(2);
    downloads.finish('CN');
    await downloads.untilStarted(3);
    controller.abort(new Error('shutting down'));
    await expect(run).rejects.toThrow('shutting down');
    expect(downloads.started).toEqual(['CN', 'IN', 'US']);
    expect(downloads.running).toBe(0);
    expect(reports.at(-1)?.map((outcome) => outcome.code)).toEqual(['CN']);
  });

  it('completes at once when every flag was already decided', async () => {
    const outcomes = await processChunk({
      codes: ['CN'],
      concurrency: 5,
      previous: [ok('CN')],
      downloadOne: () => Promise.reject(new Error('must not download')),
      signal: new AbortController().signal,
    });
    expect(outcomes).toEqual([ok('CN')]);
  });
});
