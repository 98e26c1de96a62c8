// The job handlers without Redis: fake jobs with the few members the handlers use. The
// real BullMQ wiring is tested against Redis in tests/worker.test.ts.
import { QUEUE_PREFIX, QueueNames, chunkJobId, jobKey, type ChunkProgress, type FlagOutcome } from '@flagship/common';
import { silentLogger } from '@flagship/runtime';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { handleChunkJob } from './chunk-job.ts';
import type { ChunkRunDeps } from './chunk-run.ts';
import { handleDownloadJob } from './download-job.ts';
import { CANCELLED, DownloadCancelledError, HAND_BACK, type JobRun, type RunCancellation } from './job-run.ts';

const ok = (code: string): FlagOutcome => ({ code, status: 'OK', file: `${code}.gif`, bytes: 1, attempts: 1 });

interface FakeJob {
  id: string;
  data: unknown;
  progress: unknown;
  timestamp: number;
  attemptsMade: number;
  opts: { attempts: number };
  reported: unknown[];
  movedToWait: number;
  updateProgress(progress: unknown): Promise<void>;
  moveToWait(token?: string): Promise<number>;
  getChildrenValues(): Promise<Record<string, unknown>>;
  getIgnoredChildrenFailures(): Promise<Record<string, string>>;
}

function fakeJob(fields: Partial<FakeJob> & Pick<FakeJob, 'id' | 'data'>): FakeJob & Job {
  const job: FakeJob = {
    progress: 0,
    timestamp: Date.now(),
    attemptsMade: 0,
    opts: { attempts: 3 },
    reported: [],
    movedToWait: 0,
    async updateProgress(progress) {
      job.reported.push(progress);
      job.progress = progress;
    },
    async moveToWait() {
      job.movedToWait++;
      return 0;
    },
    async getChildrenValues() {
      return {};
    },
    async getIgnoredChildrenFailures() {
      return {};
    },
    ...fields,
  };
  return job as FakeJob & Job;
}

const run = (signal = new AbortController().signal): JobRun => ({ token: 'token', signal });

function deps(downloadOne: ChunkRunDeps['downloadOne'] = async (code) => ok(code)) {
  const read: string[] = [];
  return {
    read,
    flagConcurrency: 2,
    downloadOne,
    progressIntervalMs: 0,
    logger: silentLogger(),
    prefix: QUEUE_PREFIX,
    readChunkJob: async (jobId: string) => {
      read.push(jobId);
      const progress: ChunkProgress = { downloadId: 'd1', chunk: 1, total: 2, outcomes: [ok('US')] };
      return fakeJob({ id: jobId, data: { downloadId: 'd1', chunk: 1, codes: ['US', 'JP'] }, progress });
    },
  };
}

describe('handleChunkJob', () => {
  it("downloads the chunk's flags and returns them as the chunk's result", async () => {
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['CN', 'IN'] } });
    await expect(handleChunkJob(job, run(), deps())).resolves.toEqual({
      downloadId: 'd1',
      chunk: 0,
      outcomes: [ok('CN'), ok('IN')],
    });
    expect(job.reported.at(-1)).toEqual({ downloadId: 'd1', chunk: 0, total: 2, outcomes: [ok('CN'), ok('IN')] });
  });

  it('skips the flags an earlier attempt decided', async () => {
    const progress: ChunkProgress = { downloadId: 'd1', chunk: 0, total: 2, outcomes: [ok('CN')] };
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['CN', 'IN'] }, progress });
    const downloaded: string[] = [];
    await handleChunkJob(
      job,
      run(),
      deps(async (code) => (downloaded.push(code), ok(code))),
    );
    expect(downloaded).toEqual(['IN']);
  });

  it('fails poisoned job data for good', async () => {
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['../../etc'] } });
    await expect(handleChunkJob(job, run(), deps())).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('hands the job back to the queue when the shutdown aborts it', async () => {
    const controller = new AbortController();
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['CN'] } });
    const hangs: ChunkRunDeps['downloadOne'] = (_, signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const handled = handleChunkJob(job, run(controller.signal), deps(hangs));
    controller.abort(HAND_BACK);
    await expect(handled).rejects.toBeInstanceOf(WaitingError);
    expect(job.movedToWait).toBe(1);
  });
});

describe('handleDownloadJob', () => {
  it('runs a single-job download as chunk 0 of itself and returns the summary', async () => {
    const job = fakeJob({ id: 'd1', data: { codes: ['CN', 'IN'], inline: true } });
    const summary = await handleDownloadJob(job, run(), deps());
    expect(summary).toMatchObject({ total: 2, saved: 2, files: ['CN.gif', 'IN.gif'] });
    expect(job.reported.at(-1)).toMatchObject({ downloadId: 'd1', chunk: 0, total: 2 });
  });

  it('completes a single-job download that fails on its last attempt, and rethrows before that', async () => {
    const diskFull = async (code: string) => {
      if (code === 'IN') throw new Error('ENOSPC');
      return ok(code);
    };
    const early = fakeJob({ id: 'd1', data: { codes: ['CN', 'IN'], inline: true } });
    await expect(handleDownloadJob(early, run(), { ...deps(diskFull), flagConcurrency: 1 })).rejects.toThrow('ENOSPC');

    const last = fakeJob({ id: 'd1', data: { codes: ['CN', 'IN'], inline: true }, attemptsMade: 2 });
    const summary = await handleDownloadJob(last, run(), { ...deps(diskFull), flagConcurrency: 1 });
    expect(summary.outcomes.map((outcome) => outcome.status)).toEqual(['OK', 'ERROR']);
    expect(summary.outcomes[1]?.reason).toContain('ENOSPC');
  });

  it("merges a flow's chunks, reading a failed chunk back by the id in its key", async () => {
    const job = fakeJob({
      id: 'd1',
      data: { codes: ['CN', 'US', 'JP'] },
      getChildrenValues: async () => ({
        [jobKey(QUEUE_PREFIX, QueueNames.flags, chunkJobId('d1', 0))]: {
          downloadId: 'd1',
          chunk: 0,
          outcomes: [ok('CN')],
        },
      }),
      getIgnoredChildrenFailures: async () => ({
        [jobKey(QUEUE_PREFIX, QueueNames.flags, chunkJobId('d1', 1))]: 'ENOSPC',
      }),
    });
    const handlerDeps = deps();
    const summary = await handleDownloadJob(job, run(), handlerDeps);
    expect(handlerDeps.read).toEqual([chunkJobId('d1', 1)]);
    expect(summary.outcomes.map((outcome) => [outcome.code, outcome.status])).toEqual([
      ['CN', 'OK'],
      ['US', 'OK'], // reported by the failed chunk before it failed
      ['JP', 'ERROR'],
    ]);
  });

  it('does not read a failed child whose key is not a chunk of this prefix', async () => {
    const job = fakeJob({
      id: 'd1',
      data: { codes: ['CN'] },
      getIgnoredChildrenFailures: async () => ({ '{other}:flags:d1-c0': 'gone' }),
    });
    const handlerDeps = deps();
    const summary = await handleDownloadJob(job, run(), handlerDeps);
    expect(handlerDeps.read).toEqual([]);
    expect(summary.outcomes[0]).toMatchObject({ code: 'CN', status: 'ERROR', reason: 'chunk failed: gone' });
  });

  it('tells the index the chunk started, what it decided, and the summary before returning it', async () => {
    const told: unknown[] = [];
    const downloadIndex = {
      chunkStarted: (id: string, previous: readonly FlagOutcome[]) => {
        told.push(['started', id, previous.length]);
        return (decided: readonly FlagOutcome[]) => told.push(['decided', decided.length]);
      },
      completed: async (job: Job, summary: { saved: number }) => void told.push(['completed', job.id, summary.saved]),
    };
    const job = fakeJob({ id: 'd1', data: { codes: ['CN', 'IN'], inline: true } });
    await handleDownloadJob(job, run(), { ...deps(), downloadIndex });
    expect(told[0]).toEqual(['started', 'd1', 0]);
    expect(told.at(-2)).toEqual(['decided', 2]);
    expect(told.at(-1)).toEqual(['completed', 'd1', 2]);
  });

  it('fails poisoned job data for good', async () => {
    const job = fakeJob({ id: 'd1', data: { codes: ['../../etc'], inline: true } });
    await expect(handleDownloadJob(job, run(), deps())).rejects.toBeInstanceOf(UnrecoverableError);
  });
});

describe('a cancelled download', () => {
  /** A cancellation whose mark is set when `marked()` says so; cancel() aborts `controller`. */
  function cancellation(controller: AbortController, marked: () => boolean): RunCancellation & { checks: number } {
    const fake = {
      checks: 0,
      async isCancelled() {
        fake.checks++;
        return marked();
      },
      cancel: () => controller.abort(CANCELLED),
    };
    return fake;
  }
  const hangs: ChunkRunDeps['downloadOne'] = (_, signal) =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

  it('stops a running chunk: running flags aborted, none started, and the chunk completes with what it decided', async () => {
    const controller = new AbortController();
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['CN', 'IN', 'JP', 'DE'] } });
    const started: string[] = [];
    let jpStarted!: () => void;
    const jpRunning = new Promise<void>((resolve) => (jpStarted = resolve));
    const handled = handleChunkJob(
      job,
      { ...run(controller.signal), cancellation: cancellation(controller, () => false) },
      {
        ...deps(async (code, signal) => {
          started.push(code);
          if (code !== 'JP') return ok(code);
          jpStarted();
          return hangs(code, signal);
        }),
        flagConcurrency: 1,
      },
    );
    await jpRunning;
    controller.abort(CANCELLED); // what the cancel message does, through Worker.cancelJob
    await expect(handled).resolves.toEqual({ downloadId: 'd1', chunk: 0, outcomes: [ok('CN'), ok('IN')] });
    expect(started).toEqual(['CN', 'IN', 'JP']); // DE never started
    expect(job.movedToWait).toBe(0);
  });

  it('starts no flag of a chunk whose download is marked cancelled, and keeps what an earlier attempt saved', async () => {
    const progress: ChunkProgress = { downloadId: 'd1', chunk: 0, total: 2, outcomes: [ok('CN')] };
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['CN', 'IN'] }, progress });
    const controller = new AbortController();
    const started: string[] = [];
    const result = await handleChunkJob(
      job,
      { ...run(controller.signal), cancellation: cancellation(controller, () => true) },
      deps(async (code) => (started.push(code), ok(code))),
    );
    expect(result.outcomes).toEqual([ok('CN')]);
    expect(started).toEqual([]);
  });

  it('finds the mark at a progress report when the message was missed, and stops', async () => {
    const controller = new AbortController();
    let marked = false;
    const job = fakeJob({ id: 'd1-c0', data: { downloadId: 'd1', chunk: 0, codes: ['CN', 'IN', 'JP'] } });
    const handled = handleChunkJob(
      job,
      { ...run(controller.signal), cancellation: cancellation(controller, () => marked) },
      {
        ...deps(async (code, signal) => {
          if (code === 'CN') {
            marked = true; // cancelled while CN downloads; no message comes
            return ok(code);
          }
          return hangs(code, signal);
        }),
        flagConcurrency: 1,
      },
    );
    await expect(handled).resolves.toMatchObject({ outcomes: [ok('CN')] });
    expect(controller.signal.reason).toBe(CANCELLED);
  });

  it('fails a single-job download for good with the cancel reason, its progress kept', async () => {
    const controller = new AbortController();
    const job = fakeJob({ id: 'd1', data: { codes: ['CN', 'IN'], inline: true } });
    let inStarted!: () => void;
    const inRunning = new Promise<void>((resolve) => (inStarted = resolve));
    const handled = handleDownloadJob(
      job,
      { ...run(controller.signal), cancellation: cancellation(controller, () => false) },
      {
        ...deps(async (code, signal) => (code === 'CN' ? ok(code) : (inStarted(), hangs(code, signal)))),
        flagConcurrency: 1,
      },
    );
    await inRunning;
    controller.abort(CANCELLED);
    const error = await handled.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadCancelledError);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('download cancelled');
    expect(job.reported.at(-1)).toMatchObject({ outcomes: [ok('CN')] });
  });

  it("fails a cancelled flow's parent for good without merging its chunks", async () => {
    const controller = new AbortController();
    const job = fakeJob({ id: 'd1', data: { codes: ['CN', 'IN'] } });
    const handled = handleDownloadJob(
      job,
      { ...run(controller.signal), cancellation: cancellation(controller, () => true) },
      deps(),
    );
    await expect(handled).rejects.toThrow(new UnrecoverableError('download cancelled'));
  });
});
