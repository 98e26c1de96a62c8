import { describe, expect, it } from 'vitest';
import { Contracts } from './contracts.ts';
import {
  DownloadShape,
  buildDownloadFlow,
  buildDownloadJobs,
  downloadShape,
  retentionOfJob,
  shapeOfDownloadJob,
  singleJobChunk,
  splitIntoChunks,
} from './flow.ts';
import { JobNames, QUEUE_PREFIX, QueueNames, chunkJobId, downloadIdOfChunkJob } from './queues.ts';

describe('splitIntoChunks', () => {
  it('splits in order, the last chunk shorter', () => {
    expect(splitIntoChunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(splitIntoChunks([1, 2], 25)).toEqual([[1, 2]]);
    expect(splitIntoChunks([], 3)).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a chunk size of %s', (size) => {
    expect(() => splitIntoChunks([1], size)).toThrow(RangeError);
  });
});

describe('buildDownloadFlow', () => {
  const codes = Array.from({ length: 60 }, (_, i) => `A${String.fromCharCode(65 + (i % 26))}`);

  it('makes one parent and a child per chunk of 25, under the hash-tag prefix', () => {
    const flow = buildDownloadFlow('d1', codes);
    expect(flow).toMatchObject({ name: JobNames.download, queueName: QueueNames.downloads, prefix: QUEUE_PREFIX });
    expect(flow.opts?.jobId).toBe('d1');
    expect(Contracts.downloadJobData.parse(flow.data)).toEqual({ codes });
    expect(flow.children?.map((c) => c.data.codes.length)).toEqual([25, 25, 10]);
    flow.children?.forEach((child, n) => {
      expect(child).toMatchObject({ name: JobNames.chunk, queueName: QueueNames.flags, prefix: QUEUE_PREFIX });
      expect(child.opts?.jobId).toBe(chunkJobId('d1', n));
      expect(Contracts.chunkJobData.parse(child.data)).toEqual({ downloadId: 'd1', chunk: n, codes: child.data.codes });
      expect(child.opts).toMatchObject({
        attempts: 3,
        ignoreDependencyOnFailure: true,
        backoff: { type: 'exponential' },
      });
      expect(child.opts?.removeOnComplete).toBeDefined();
      expect(child.opts?.removeOnFail).toBeDefined();
    });
  });

  it('keeps a download smaller than a chunk as one child, and takes options', () => {
    const flow = buildDownloadFlow('d2', ['CN', 'IN'], { chunkSize: 10, prefix: '{t}', chunkAttempts: 5 });
    expect(flow.prefix).toBe('{t}');
    expect(flow.children).toHaveLength(1);
    expect(flow.children?.[0]?.opts?.attempts).toBe(5);
  });

  it('chunk job ids lead back to their download', () => {
    expect(downloadIdOfChunkJob(chunkJobId('6f1c-aa', 12))).toBe('6f1c-aa');
    expect(downloadIdOfChunkJob('6f1c-aa')).toBeUndefined();
  });
});

describe('downloadShape and buildDownloadJobs', () => {
  it('makes a download that fits one chunk ONE job, a larger one a flow', () => {
    expect(downloadShape(1, 25)).toBe(DownloadShape.single);
    expect(downloadShape(25, 25)).toBe(DownloadShape.single);
    expect(downloadShape(26, 25)).toBe(DownloadShape.flow);
    expect(downloadShape(20)).toBe(DownloadShape.single); // the reference's 20 codes, default chunk size
    expect(() => downloadShape(3, 0)).toThrow(RangeError);
  });

  it('builds the single job: inline codes, the download id, chunk attempts and backoff, retention', () => {
    const jobs = buildDownloadJobs('d3', ['CN', 'IN'], { prefix: '{t}', chunkAttempts: 5, chunkBackoffMs: 10 });
    expect(jobs.shape).toBe('single');
    if (jobs.shape !== 'single') return;
    expect(jobs).toMatchObject({ name: JobNames.download, queueName: QueueNames.downloads, prefix: '{t}' });
    expect(Contracts.downloadJobData.parse(jobs.data)).toEqual({ codes: ['CN', 'IN'], inline: true });
    expect(jobs.opts).toMatchObject({ jobId: 'd3', attempts: 5, backoff: { type: 'exponential', delay: 10 } });
    expect(jobs.opts.removeOnComplete).toEqual({ age: 24 * 3600, count: 10_000 });
    expect(jobs.opts.removeOnFail).toEqual({ age: 24 * 3600, count: 10_000 });
    expect(jobs.opts).not.toHaveProperty('parent');
  });

  it('builds the same flow as buildDownloadFlow once the codes exceed a chunk', () => {
    const codes = Array.from({ length: 26 }, (_, i) => `A${String.fromCharCode(65 + (i % 26))}`);
    const jobs = buildDownloadJobs('d4', codes);
    expect(jobs).toEqual({ shape: 'flow', flow: buildDownloadFlow('d4', codes) });
    if (jobs.shape === 'flow') expect(Contracts.downloadJobData.parse(jobs.flow.data)).toEqual({ codes });
  });

  it('takes the retention, the acceptance time and the download retried, for both shapes', () => {
    const options = { retentionSeconds: 60, retentionCount: 5, createdAt: 1_700_000_000_000, retryOf: 'd0' };
    const single = buildDownloadJobs('d8', ['CN'], options);
    const flow = buildDownloadJobs('d9', ['CN', 'IN'], { ...options, chunkSize: 1 });
    for (const [data, opts] of [
      single.shape === 'single' ? [single.data, single.opts] : [],
      flow.shape === 'flow' ? [flow.flow.data, flow.flow.opts] : [],
    ]) {
      expect(Contracts.downloadJobData.parse(data)).toMatchObject({ retryOf: 'd0' });
      expect(opts).toMatchObject({ timestamp: 1_700_000_000_000, removeOnComplete: { age: 60, count: 5 } });
      expect(retentionOfJob(opts as object)).toEqual({ ageSeconds: 60, count: 5 });
    }
    expect(flow.shape === 'flow' && flow.flow.children?.[0]?.opts?.removeOnFail).toEqual({ age: 60, count: 5 });
    const plain = buildDownloadJobs('d10', ['CN']);
    expect(plain.shape === 'single' && plain.opts).not.toHaveProperty('timestamp');
    expect(plain.shape === 'single' && plain.data).not.toHaveProperty('retryOf');
  });

  it.each([undefined, {}, { removeOnComplete: true }, { removeOnComplete: 5 }, { removeOnComplete: { count: 5 } }])(
    'reads no retention from job options %j',
    (opts) => {
      expect(retentionOfJob(opts)).toBeUndefined();
    },
  );

  it.each([
    { codes: ['CN'], inline: false },
    { codes: ['CN'], inline: 'yes' },
    { codes: [], inline: true },
  ])('refuses poisoned download job data %j', (data) => {
    expect(Contracts.downloadJobData.check(data)).toBe(false);
  });
});

describe('shapeOfDownloadJob and singleJobChunk', () => {
  it('reads back the shape buildDownloadJobs gave a download', () => {
    const single = buildDownloadJobs('d5', ['CN', 'IN']);
    const flow = buildDownloadJobs('d6', ['CN', 'IN'], { chunkSize: 1 });
    expect(single.shape === 'single' && shapeOfDownloadJob(single.data)).toBe(DownloadShape.single);
    expect(flow.shape === 'flow' && shapeOfDownloadJob(flow.flow.data)).toBe(DownloadShape.flow);
  });

  it.each([undefined, null, 'CN', {}, { codes: ['CN'] }, { inline: false }, { inline: 'true' }, { inline: 1 }])(
    'takes data without `inline: true` (%j) for a flow parent',
    (data) => {
      expect(shapeOfDownloadJob(data)).toBe(DownloadShape.flow);
    },
  );

  it("makes a single job's codes chunk 0 of the download itself, a valid chunk", () => {
    const codes = ['CN', 'IN'];
    const chunk = singleJobChunk('d7', codes);
    expect(Contracts.chunkJobData.parse(chunk)).toEqual({ downloadId: 'd7', chunk: 0, codes: ['CN', 'IN'] });
    codes.push('US');
    expect(chunk.codes).toEqual(['CN', 'IN']); // a copy: the job's data stays as it was
  });
});
