// An in-memory downloads' index for unit tests: the records by id, the tombstones, and
// newest-first pages by (createdAt, id), as the Redis scripts order them.
import type { DownloadRecord, DownloadState } from '@flagship/common';
import type { DownloadIndexPort } from '../queues/download-queues.ts';

export interface FakeDownloadIndex extends DownloadIndexPort {
  readonly records: Map<string, DownloadRecord>;
  /** Ids past their retention: read() says 'expired'. */
  readonly expired: Set<string>;
  /** Sets a record as it is, for tests (and finished ones). */
  put(record: Partial<DownloadRecord> & Pick<DownloadRecord, 'id'>): DownloadRecord;
}

const FINISHED: ReadonlySet<DownloadState> = new Set(['completed', 'failed', 'cancelled']);

/** Newest first; the same millisecond by descending id, as ZREVRANGE orders ties. */
const newestFirst = (a: DownloadRecord, b: DownloadRecord) =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export function createFakeDownloadIndex(): FakeDownloadIndex {
  const records = new Map<string, DownloadRecord>();
  const expired = new Set<string>();
  const put: FakeDownloadIndex['put'] = (fields) => {
    const record: DownloadRecord = {
      state: 'queued' as DownloadState,
      total: 0,
      done: 0,
      saved: 0,
      notFound: 0,
      failed: 0,
      createdAt: 0,
      ...fields,
    };
    records.set(record.id, record);
    return record;
  };
  return {
    records,
    expired,
    put,
    async submitted(download) {
      if (records.has(download.id) || expired.has(download.id)) return false;
      put(download);
      return true;
    },
    async finished(id, { state, counts, finishedAt }) {
      const record = records.get(id);
      if (record === undefined || FINISHED.has(record.state)) return false;
      records.set(id, { ...record, ...counts, state, finishedAt });
      return true;
    },
    async forget(id) {
      records.delete(id);
    },
    async read(id) {
      return records.get(id) ?? (expired.has(id) ? 'expired' : undefined);
    },
    async page({ state, limit, after }) {
      const walk = [...records.values()]
        .filter((record) => state === undefined || record.state === state)
        .sort(newestFirst)
        .filter((record) => after === undefined || newestFirst({ ...after } as DownloadRecord, record) < 0);
      const shown = walk.slice(0, limit);
      const last = shown.at(-1);
      return {
        records: shown,
        ...(walk.length > limit && last ? { next: { createdAt: last.createdAt, id: last.id } } : {}),
      };
    },
  };
}
