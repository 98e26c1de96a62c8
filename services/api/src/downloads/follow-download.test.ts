// Following one download: the first snapshot only once the feed reads, each outcome
// once, the final event, and no subscription left behind whatever happens.
import type { DownloadEvent } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { DownloadNotFoundError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, notFound, ok, progress, result, snapshot, summary } from '../test-support/fixtures.ts';
import { createDownloadEventHub } from './download-event-hub.ts';
import { followDownload } from './follow-download.ts';

async function collect(iterable: AsyncIterable<DownloadEvent>): Promise<DownloadEvent[]> {
  const events: DownloadEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

describe('followDownload', () => {
  it('reads the first snapshot only once the feed is reading', async () => {
    const queues = createFakeDownloadQueues();
    let feedStarted!: () => void;
    const started = new Promise<void>((resolve) => (feedStarted = resolve));
    let reading = false;
    queues.events.start = async () => {
      await started;
      reading = true;
    };
    const hub = createDownloadEventHub(queues.events);
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    const readWhileReading: boolean[] = [];
    queues.onReadSnapshot = () => readWhileReading.push(reading);
    const following = followDownload(DOWNLOAD_ID, { hub, queues });
    await Promise.resolve();
    expect(readWhileReading).toEqual([]);
    feedStarted();
    const stream = await following;
    expect(readWhileReading).toEqual([true]);
    stream.close();
    await hub.close();
  });

  it('fails with the feed error when the feed cannot start, leaving no subscription', async () => {
    const queues = createFakeDownloadQueues();
    queues.feed.startError = new Error('Redis is not connected');
    const hub = createDownloadEventHub(queues.events);
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    await expect(followDownload(DOWNLOAD_ID, { hub, queues })).rejects.toThrow('Redis is not connected');
    expect(hub.size).toBe(0);
    await hub.close();
  });

  it('follows a single-job download: its own progress, then the summary', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    const own = { jobId: DOWNLOAD_ID, status: 'pending' as const, started: false };
    queues.snapshots.set(
      DOWNLOAD_ID,
      snapshot({ state: 'waiting', data: { codes: ['BR', 'CN'], inline: true }, chunks: [own] }),
    );
    const all = [ok('BR'), notFound('CN')];
    queues.onReadSnapshot = () => {
      queues.onReadSnapshot = undefined;
      const { downloads } = queues.emitters;
      downloads.emit('progress', { jobId: DOWNLOAD_ID, data: progress(0, [ok('BR')]) });
      downloads.emit('progress', { jobId: DOWNLOAD_ID, data: progress(0, all) });
      downloads.emit('completed', { jobId: DOWNLOAD_ID, returnvalue: summary(all) });
    };
    const events = await collect(await followDownload(DOWNLOAD_ID, { hub, queues }));
    expect(events.map((e) => e.event)).toEqual(['status', 'progress', 'progress', 'completed']);
    expect(events[0]?.data).toMatchObject({ state: 'queued', total: 2, done: 0 });
    expect(events[2]?.data).toEqual({
      done: 2,
      total: 2,
      saved: 1,
      notFound: 1,
      failed: 0,
      outcomes: [notFound('CN')],
    });
    expect(events[3]?.data).toMatchObject({ state: 'completed', saved: 1, notFound: 1, outcomes: all });
    await hub.close();
  });

  it('sends status then completed at once for a finished download', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    const outcomes = [ok('BR'), ok('CN'), ok('IN'), ok('US')];
    queues.snapshots.set(DOWNLOAD_ID, snapshot({ state: 'completed', returnValue: summary(outcomes), chunks: [] }));
    const events = await collect(await followDownload(DOWNLOAD_ID, { hub, queues }));
    expect(events.map((e) => [e.event, 'state' in e.data ? e.data.state : undefined])).toEqual([
      ['status', 'completed'],
      ['completed', 'completed'],
    ]);
    expect(hub.size).toBe(0);
  });

  it('does not lose events published while the first snapshot is read, and sends each outcome once', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    const all = [ok('BR'), ok('CN'), notFound('IN'), ok('US')];
    queues.onReadSnapshot = () => {
      queues.onReadSnapshot = undefined;
      const { flags, downloads } = queues.emitters;
      flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c0`, data: progress(0, [ok('BR')]) });
      flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c0`, data: progress(0, [ok('BR'), ok('CN')]) });
      flags.emit('completed', { jobId: `${DOWNLOAD_ID}-c0`, returnvalue: result(0, [ok('BR'), ok('CN')]) });
      flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c1`, data: progress(1, [notFound('IN'), ok('US')]) });
      downloads.emit('completed', { jobId: DOWNLOAD_ID, returnvalue: summary(all) });
    };
    const events = await collect(await followDownload(DOWNLOAD_ID, { hub, queues }));
    expect(events.map((e) => e.event)).toEqual(['status', 'progress', 'progress', 'progress', 'completed']);
    expect(events[1]?.data).toEqual({ done: 1, total: 4, saved: 1, notFound: 0, failed: 0, outcomes: [ok('BR')] });
    expect(events[2]?.data).toMatchObject({ done: 2, outcomes: [ok('CN')] });
    expect(events[3]?.data).toEqual({
      done: 4,
      total: 4,
      saved: 3,
      notFound: 1,
      failed: 0,
      outcomes: [notFound('IN'), ok('US')],
    });
    expect(events[4]?.data).toMatchObject({ state: 'completed', saved: 3, notFound: 1, outcomes: all });
    expect(hub.size).toBe(0);
  });

  it('ends with failed when the download fails', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    queues.onReadSnapshot = () => {
      queues.onReadSnapshot = undefined;
      queues.emitters.downloads.emit('failed', { jobId: DOWNLOAD_ID, failedReason: 'boom' });
    };
    const events = await collect(await followDownload(DOWNLOAD_ID, { hub, queues }));
    expect(events.map((e) => e.event)).toEqual(['status', 'failed']);
    expect(events[1]?.data).toMatchObject({ state: 'failed', failedReason: 'boom', message: 'download failed: boom' });
  });

  it('throws DownloadNotFoundError for an unknown id and leaves no subscription behind', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    await expect(followDownload(DOWNLOAD_ID, { hub, queues })).rejects.toThrow(DownloadNotFoundError);
    expect(hub.size).toBe(0);
  });

  it('stops when the client goes away (close), unsubscribing', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    queues.snapshots.set(DOWNLOAD_ID, snapshot());
    const stream = await followDownload(DOWNLOAD_ID, { hub, queues });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.event).toBe('status');
    expect(hub.size).toBe(1);
    const pending = iterator.next();
    stream.close();
    expect((await pending).done).toBe(true);
    expect(hub.size).toBe(0);
  });
});
