// Reconnecting with Last-Event-ID, over in-memory queues: the entries after the id are
// replayed instead of a status (each flag still told once), an entry heard both in the
// replay and live is told once, and an id the streams were trimmed past, or one that is
// not ours, starts afresh with a status.
import type { DownloadEvent } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import type { QueueEventEntry } from '../queues/download-queues.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, ok, progress, result, snapshot, summary } from '../test-support/fixtures.ts';
import { createDownloadEventHub } from './download-event-hub.ts';
import { decodeEventId } from './event-ids.ts';
import { followDownload, type IdentifiedDownloadEvent } from './follow-download.ts';

const CODES = ['BR', 'CN', 'IN', 'US'];
const chunk = (n: number) => `${DOWNLOAD_ID}-c${n}`;

function flagsEntry(id: string, event: 'progress' | 'completed', n: number, codes: string[]): QueueEventEntry {
  const outcomes = codes.map((code) => ok(code));
  const args =
    event === 'progress'
      ? { jobId: chunk(n), data: progress(n, outcomes) }
      : { jobId: chunk(n), returnvalue: result(n, outcomes) };
  return { stream: 'flags', id, event, args };
}

async function collect(events: AsyncIterable<IdentifiedDownloadEvent>, until?: (e: DownloadEvent) => boolean) {
  const got: IdentifiedDownloadEvent[] = [];
  for await (const event of events) {
    got.push(event);
    if (until?.(event)) break;
  }
  return got;
}

function setup() {
  const queues = createFakeDownloadQueues();
  queues.feed.positions = { downloads: '100-0', flags: '100-0' };
  queues.snapshots.set(DOWNLOAD_ID, snapshot({ data: { codes: CODES } }));
  const hub = createDownloadEventHub(queues.events);
  return { queues, hub };
}

describe('followDownload with Last-Event-ID', () => {
  it('gives every event an id: where the streams stood and what the client was told', async () => {
    const { queues, hub } = setup();
    queues.onReadSnapshot = () => {
      queues.onReadSnapshot = undefined;
      queues.emitters.flags.emit('progress', { jobId: chunk(0), data: progress(0, [ok('BR')]) }, '101-0');
      queues.emitters.downloads.emit('completed', { jobId: DOWNLOAD_ID, returnvalue: summary([ok('BR')]) }, '102-0');
    };
    const events = await collect(await followDownload(DOWNLOAD_ID, { hub, queues }));
    expect(events.map((e) => e.event)).toEqual(['status', 'progress', 'completed']);
    expect(events.map((e) => decodeEventId(e.id, 4)?.positions)).toEqual([
      { downloads: '100-0', flags: '100-0' },
      { downloads: '100-0', flags: '101-0' },
      { downloads: '102-0', flags: '101-0' },
    ]);
    expect(decodeEventId(events[1]?.id, 4)?.told).toEqual([true, false, false, false]);
    await hub.close();
  });

  it('replays what the client missed, each flag once, then goes on live without repeating a replayed entry', async () => {
    const { queues, hub } = setup();
    // The first connection: status, then BR.
    queues.onReadSnapshot = () => {
      queues.onReadSnapshot = undefined;
      queues.emitters.flags.emit('progress', { jobId: chunk(0), data: progress(0, [ok('BR')]) }, '101-0');
    };
    const first = await collect(await followDownload(DOWNLOAD_ID, { hub, queues }), (e) => e.event === 'progress');
    const lastEventId = first.at(-1)?.id;

    // Meanwhile: CN (cumulative with BR), chunk 0's result, IN in chunk 1.
    queues.snapshots.set(
      DOWNLOAD_ID,
      snapshot({
        data: { codes: CODES },
        chunks: [
          { jobId: chunk(0), status: 'completed', started: true, result: result(0, [ok('BR'), ok('CN')]) },
          { jobId: chunk(1), status: 'pending', started: true, progress: progress(1, [ok('IN')]) },
        ],
      }),
    );
    queues.replay = {
      complete: true,
      entries: [
        flagsEntry('102-0', 'progress', 0, ['BR', 'CN']),
        flagsEntry('103-0', 'completed', 0, ['BR', 'CN']),
        flagsEntry('104-0', 'progress', 1, ['IN']),
      ],
    };
    // Live, after the reconnect: the IN entry again (read by the hub too), then US, then the end.
    queues.onReadSnapshot = () => {
      queues.onReadSnapshot = undefined;
      queues.emitters.flags.emit('progress', { jobId: chunk(1), data: progress(1, [ok('IN')]) }, '104-0');
      queues.emitters.flags.emit('progress', { jobId: chunk(1), data: progress(1, [ok('IN'), ok('US')]) }, '105-0');
      queues.emitters.downloads.emit(
        'completed',
        { jobId: DOWNLOAD_ID, returnvalue: summary(CODES.map((c) => ok(c))) },
        '106-0',
      );
    };
    const second = await collect(await followDownload(DOWNLOAD_ID, { hub, queues, lastEventId }));
    expect(queues.replayedFrom).toEqual([{ downloads: '100-0', flags: '101-0' }]);
    expect(second.map((e) => e.event)).toEqual(['progress', 'progress', 'progress', 'completed']);
    const told = [...first, ...second].flatMap((e) =>
      e.event === 'progress' ? e.data.outcomes.map((o) => o.code) : [],
    );
    expect(told).toEqual(['BR', 'CN', 'IN', 'US']);
    expect(second[2]?.data).toMatchObject({ done: 4, total: 4, saved: 4 });
    expect(new Set([...first, ...second].map((e) => e.id)).size).toBe(first.length + second.length);
    await hub.close();
  });

  it('starts afresh with a status when the streams were trimmed past the id, or the id is not ours', async () => {
    const { queues, hub } = setup();
    queues.replay = { complete: false, entries: [flagsEntry('102-0', 'progress', 0, ['BR'])] };
    const lastEventId = '100-0.100-0.AA'; // 4 codes: one byte of bits
    const stream = await followDownload(DOWNLOAD_ID, { hub, queues, lastEventId });
    const [trimmed] = await collect(stream, () => true);
    expect(trimmed?.event).toBe('status');
    expect(queues.replayedFrom).toHaveLength(1);

    const other = await followDownload(DOWNLOAD_ID, { hub, queues, lastEventId: 'something-else' });
    const [fresh] = await collect(other, () => true);
    expect(fresh?.event).toBe('status');
    expect(queues.replayedFrom).toHaveLength(1); // not even asked
    await hub.close();
  });

  it('replays the end of a download that finished meanwhile, and stops there', async () => {
    const { queues, hub } = setup();
    queues.snapshots.set(DOWNLOAD_ID, snapshot({ data: { codes: CODES }, cancelledAt: Date.now() }));
    queues.replay = {
      complete: true,
      entries: [
        flagsEntry('102-0', 'progress', 0, ['BR']),
        { stream: 'downloads', id: '103-0', event: 'cancelled', args: { jobId: DOWNLOAD_ID } },
      ],
    };
    const events = await collect(await followDownload(DOWNLOAD_ID, { hub, queues, lastEventId: '100-0.100-0.AA' }));
    expect(events.map((e) => e.event)).toEqual(['progress', 'cancelled']);
    expect(events[1]?.data).toMatchObject({ state: 'cancelled' });
    await hub.close();
  });
});
