import { describe, expect, it } from 'vitest';
import { QUEUE_PREFIX, QueueNames, chunkJobId, chunkJobIdOfKey, jobKey, redisOptions } from './queues.ts';

describe('jobKey and chunkJobIdOfKey', () => {
  it("names a job's key as BullMQ does, and reads a chunk job id back from it", () => {
    const key = jobKey(QUEUE_PREFIX, QueueNames.flags, chunkJobId('6f1c-aa', 3));
    expect(key).toBe('{flagship}:flags:6f1c-aa-c3');
    expect(chunkJobIdOfKey(QUEUE_PREFIX, key)).toBe('6f1c-aa-c3');
  });

  it('reads keys under any prefix, including one with colons', () => {
    const prefix = 'test:{abc}';
    expect(chunkJobIdOfKey(prefix, jobKey(prefix, QueueNames.flags, 'd-c0'))).toBe('d-c0');
  });

  it.each([
    ['the downloads queue', '{flagship}:downloads:d1'],
    ['another prefix', '{other}:flags:d1-c0'],
    ['no prefix at all', 'flags:d1-c0'],
    ['a key that only starts like one', '{flagship}:flagsX:d1-c0'],
  ])('ignores a key of %s', (_, key) => {
    expect(chunkJobIdOfKey(QUEUE_PREFIX, key)).toBeUndefined();
  });
});

describe('redisOptions', () => {
  it('makes producers fail fast and everyone else wait for Redis', () => {
    expect(redisOptions('producer')).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    expect(redisOptions('worker')).toMatchObject({ maxRetriesPerRequest: null });
    expect(redisOptions('events').connectionName).toBe('flagship-events');
  });
});
