// An in-memory DownloadQueues for unit tests: records added downloads, serves snapshots
// from a map, and exposes plain EventEmitters in place of the two QueueEvents, with a
// feed that counts its starts and stops.
import { EventEmitter } from 'node:events';
import type { DownloadJobs } from '@flagship/common';
import type {
  CancelMark,
  DownloadQueues,
  DownloadSnapshot,
  EventReplay,
  StreamPositions,
} from '../queues/download-queues.ts';
import { createFakeDownloadIndex, type FakeDownloadIndex } from './fake-download-index.ts';
import { createFakeIdempotencyKeys, type FakeIdempotencyKeys } from './fake-idempotency-keys.ts';

export interface FakeDownloadQueues extends DownloadQueues {
  /** Every download added, in order. */
  readonly added: DownloadJobs[];
  readonly snapshots: Map<string, DownloadSnapshot>;
  readonly index: FakeDownloadIndex;
  readonly idempotencyKeys: FakeIdempotencyKeys;
  readonly emitters: { downloads: EventEmitter; flags: EventEmitter };
  /** Calls of events.start() and events.stop(); `startError` makes start() reject. */
  readonly feed: { starts: number; stops: number; startError?: Error; positions: StreamPositions };
  /** What readEventsAfter answers, whatever the positions (and the positions it was asked for). */
  replay: EventReplay;
  readonly replayedFrom: StreamPositions[];
  /** Called after each snapshot read starts, before it resolves: lets a test publish events "in between". */
  onReadSnapshot?: (downloadId: string) => void;
  closeCalls: number;
  /** Every cancelDownload call: [id, at]. A snapshot gets cancelledAt unless it is completed or failed. */
  readonly cancels: [string, number][];
}

export function createFakeDownloadQueues(overrides: Partial<Pick<DownloadQueues, 'ping' | 'addDownload'>> = {}) {
  const emitters = { downloads: new EventEmitter(), flags: new EventEmitter() };
  const feed: FakeDownloadQueues['feed'] = { starts: 0, stops: 0, positions: { downloads: '0-0', flags: '0-0' } };
  const fake: FakeDownloadQueues = {
    prefix: 'fake',
    added: [],
    snapshots: new Map(),
    index: createFakeDownloadIndex(),
    idempotencyKeys: createFakeIdempotencyKeys(),
    emitters,
    feed,
    events: {
      ...emitters,
      async start() {
        feed.starts++;
        if (feed.startError) throw feed.startError;
      },
      async stop() {
        feed.stops++;
      },
      positions: () => ({ ...feed.positions }),
    },
    closeCalls: 0,
    cancels: [],
    replay: { complete: true, entries: [] },
    replayedFrom: [],
    async readEventsAfter(_downloadId, positions) {
      fake.replayedFrom.push(positions);
      return fake.replay;
    },
    async cancelDownload(downloadId, atMs): Promise<CancelMark> {
      fake.cancels.push([downloadId, atMs]);
      const snapshot = fake.snapshots.get(downloadId);
      if (snapshot === undefined) return { outcome: 'missing' };
      if (snapshot.cancelledAt !== undefined) return { outcome: 'already', at: snapshot.cancelledAt };
      if (snapshot.state === 'completed' || snapshot.state === 'failed') return { outcome: 'finished' };
      fake.snapshots.set(downloadId, { ...snapshot, cancelledAt: atMs });
      return { outcome: 'cancelled', at: atMs };
    },
    async addDownload(jobs) {
      if (overrides.addDownload) return overrides.addDownload(jobs);
      fake.added.push(jobs);
    },
    async readSnapshot(downloadId) {
      fake.onReadSnapshot?.(downloadId);
      return fake.snapshots.get(downloadId);
    },
    async ping() {
      if (overrides.ping) return overrides.ping();
    },
    async close() {
      fake.closeCalls++;
    },
  };
  return fake;
}
