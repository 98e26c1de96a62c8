// The index's pure parts: its key layout and the record's hash fields. The scripts run
// against a real Redis in tests/download-index.test.ts.
import { describe, expect, it } from 'vitest';
import { downloadIndexKeys, downloadRecordFields, parseDownloadRecord, type DownloadRecord } from './download-index.ts';
import { jobKey, QUEUE_PREFIX, QueueNames } from './queues.ts';

const RECORD: DownloadRecord = {
  id: 'd1',
  state: 'completed',
  total: 20,
  done: 20,
  saved: 18,
  notFound: 1,
  failed: 1,
  createdAt: 1_700_000_000_000,
  finishedAt: 1_700_000_001_234,
  retryOf: 'd0',
};

describe('downloadIndexKeys', () => {
  it('keeps every key under the hash tag and apart from BullMQ queue keys', () => {
    const keys = downloadIndexKeys();
    const all = [keys.record('d1'), keys.all, keys.state('running'), keys.finished, keys.expired];
    expect(all).toEqual([
      '{flagship}:download:d1',
      '{flagship}:download-index:all',
      '{flagship}:download-index:state:running',
      '{flagship}:download-index:finished',
      '{flagship}:download-index:expired',
    ]);
    expect(keys.record('d1')).toBe(keys.recordPrefix + 'd1');
    // BullMQ's keys of the queues are {prefix}:{queue}:…; none of ours can be one of them.
    for (const queue of Object.values(QueueNames)) {
      for (const key of all) expect(key.startsWith(jobKey(QUEUE_PREFIX, queue, ''))).toBe(false);
    }
    expect(downloadIndexKeys('{t}').all).toBe('{t}:download-index:all');
  });
});

describe('downloadRecordFields and parseDownloadRecord', () => {
  const order = ['state', 'total', 'done', 'saved', 'notFound', 'failed', 'createdAt', 'finishedAt', 'retryOf'];

  it('round-trips a record through hash fields', () => {
    const fields = downloadRecordFields(RECORD);
    expect(
      parseDownloadRecord(
        'd1',
        order.map((field) => fields[field] ?? null),
      ),
    ).toEqual(RECORD);
  });

  it('leaves out what a record does not have', () => {
    const { finishedAt: _f, retryOf: _r, ...queued } = { ...RECORD, state: 'queued' as const };
    const fields = downloadRecordFields(queued);
    expect(Object.keys(fields)).not.toContain('finishedAt');
    expect(
      parseDownloadRecord(
        'd1',
        order.map((field) => fields[field] ?? null),
      ),
    ).toEqual(queued);
  });

  it.each([[[]], [[null]], [['expired']], [['COMPLETED', '1']]])('reads no record from %j', (values) => {
    expect(parseDownloadRecord('d1', values)).toBeUndefined();
  });

  it('reads bad counts as 0, never negative', () => {
    expect(parseDownloadRecord('d1', ['running', 'x', '-3', null])).toMatchObject({ total: 0, done: 0, saved: 0 });
  });
});
