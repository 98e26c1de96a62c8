import { describe, expect, it } from 'vitest';
import { Contracts } from './contracts.ts';
import { buildDownloadFlow, splitIntoChunks } from './flow.ts';
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
