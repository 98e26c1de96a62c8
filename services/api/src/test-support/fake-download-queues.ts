// An in-memory DownloadQueues for unit tests: records added flows, serves snapshots
// from a map, and exposes plain EventEmitters in place of the two QueueEvents.
import { EventEmitter } from 'node:events';
import type { FlowJob } from 'bullmq';
import type { DownloadQueues, DownloadSnapshot } from '../queues/download-queues.ts';

export interface FakeDownloadQueues extends DownloadQueues {
  readonly flows: FlowJob[];
  readonly snapshots: Map<string, DownloadSnapshot>;
  readonly emitters: { downloads: EventEmitter; flags: EventEmitter };
  /** Called after each snapshot read starts, before it resolves: lets a test publish events "in between". */
  onReadSnapshot?: (downloadId: string) => void;
  closeCalls: number;
}

export function createFakeDownloadQueues(overrides: Partial<Pick<DownloadQueues, 'ping' | 'addFlow'>> = {}) {
  const emitters = { downloads: new EventEmitter(), flags: new EventEmitter() };
  const fake: FakeDownloadQueues = {
    prefix: 'fake',
    flows: [],
    snapshots: new Map(),
    emitters,
    events: emitters,
    closeCalls: 0,
    async addFlow(flow) {
      if (overrides.addFlow) return overrides.addFlow(flow);
      fake.flows.push(flow);
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
