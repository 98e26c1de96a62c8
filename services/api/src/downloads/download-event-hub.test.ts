// The event hub: routing queue events to the followers of each download, dropping
// events that break their contract, and reading the feed only while someone follows.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DOWNLOAD_ID, ok, progress, result, summary } from '../test-support/fixtures.ts';
import { createDownloadEventHub, type HubEvent } from './download-event-hub.ts';

const OTHER_ID = '00000000-0000-4000-8000-000000000000';

describe('createDownloadEventHub', () => {
  it("routes chunk and download events to that download's subscribers only", async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    const mine = hub.subscribe(DOWNLOAD_ID);
    const other = hub.subscribe(OTHER_ID);
    queues.emitters.flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c0`, data: progress(0, [ok('BR')]) });
    queues.emitters.flags.emit('progress', { jobId: `${OTHER_ID}-c0`, data: progress(0, [ok('FR')]) });
    queues.emitters.flags.emit('completed', { jobId: `${DOWNLOAD_ID}-c1`, returnvalue: result(1, [ok('CN')]) });
    queues.emitters.downloads.emit('completed', { jobId: DOWNLOAD_ID, returnvalue: summary([ok('BR'), ok('CN')]) });
    const seen: HubEvent[] = [];
    for await (const event of mine) {
      seen.push(event);
      if (event.type === 'completed') break;
    }
    expect(seen).toEqual([
      { type: 'outcomes', outcomes: [ok('BR')] },
      { type: 'outcomes', outcomes: [ok('CN')] },
      { type: 'completed', summary: summary([ok('BR'), ok('CN')]) },
    ]);
    other.close();
    expect(hub.size).toBe(0);
    hub.close();
    expect(queues.emitters.flags.listenerCount('progress')).toBe(0);
  });

  it('drops events that break their contract (Redis is a trust boundary)', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    const subscription = hub.subscribe(DOWNLOAD_ID);
    queues.emitters.flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c0`, data: { outcomes: 'all of them' } });
    queues.emitters.flags.emit('progress', { jobId: `${DOWNLOAD_ID}-c0`, data: 42 });
    queues.emitters.flags.emit('progress', { jobId: 'no-chunk-suffix', data: progress(0, [ok('BR')]) });
    queues.emitters.downloads.emit('completed', { jobId: DOWNLOAD_ID, returnvalue: '<script>' });
    const [first] = await (async () => {
      for await (const event of subscription) return [event];
      return [];
    })();
    expect(first).toEqual({ type: 'completed', summary: undefined });
    hub.close();
  });

  it("routes a single-job download's own progress (queue downloads) to its subscribers", async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    const subscription = hub.subscribe(DOWNLOAD_ID);
    queues.emitters.downloads.emit('progress', { jobId: DOWNLOAD_ID, data: progress(0, [ok('BR')]) });
    queues.emitters.downloads.emit('progress', { jobId: OTHER_ID, data: progress(0, [ok('FR')]) });
    queues.emitters.downloads.emit('progress', { jobId: DOWNLOAD_ID, data: { outcomes: [{ code: '../' }] } });
    queues.emitters.downloads.emit('completed', { jobId: DOWNLOAD_ID, returnvalue: summary([ok('BR')]) });
    const seen: HubEvent[] = [];
    for await (const event of subscription) {
      seen.push(event);
      if (event.type === 'completed') break;
    }
    expect(seen).toEqual([
      { type: 'outcomes', outcomes: [ok('BR')] },
      { type: 'completed', summary: summary([ok('BR')]) },
    ]);
    await hub.close();
    expect(queues.emitters.downloads.listenerCount('progress')).toBe(0);
  });

  it('ends every subscription on closeSubscriptions (shutdown)', async () => {
    const hub = createDownloadEventHub(createFakeDownloadQueues().events);
    const subscription = hub.subscribe(DOWNLOAD_ID);
    const drained = (async () => {
      for await (const _ of subscription) void _;
      return 'ended';
    })();
    hub.closeSubscriptions();
    await expect(drained).resolves.toBe('ended');
    expect(hub.size).toBe(0);
  });
});

describe('createDownloadEventHub: the feed reads only while someone follows', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not start the feed until the first follower, and stops it a linger after the last left', async () => {
    vi.useFakeTimers();
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events, { lingerMs: 1_000 });
    expect(queues.feed).toMatchObject({ starts: 0, stops: 0 });
    expect(hub.reading).toBe(false);

    const first = hub.subscribe(DOWNLOAD_ID);
    const second = hub.subscribe(OTHER_ID);
    await Promise.all([first.ready, second.ready]);
    expect(queues.feed.starts).toBeGreaterThanOrEqual(1);
    expect(hub.reading).toBe(true);

    first.close();
    vi.advanceTimersByTime(5_000);
    expect(queues.feed.stops).toBe(0); // someone still follows
    second.close();
    vi.advanceTimersByTime(999);
    expect(queues.feed.stops).toBe(0); // lingering
    vi.advanceTimersByTime(1);
    expect(queues.feed.stops).toBe(1);
    expect(hub.reading).toBe(false);
    await hub.close();
  });

  it('keeps reading when a follower comes back within the linger', async () => {
    vi.useFakeTimers();
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events, { lingerMs: 1_000 });
    hub.subscribe(DOWNLOAD_ID).close();
    vi.advanceTimersByTime(500);
    const back = hub.subscribe(OTHER_ID);
    vi.advanceTimersByTime(5_000);
    expect(queues.feed.stops).toBe(0);
    expect(hub.reading).toBe(true);
    back.close();
    vi.advanceTimersByTime(1_000);
    expect(queues.feed.stops).toBe(1);
    await hub.close();
  });

  it('stops the feed on close', async () => {
    const queues = createFakeDownloadQueues();
    const hub = createDownloadEventHub(queues.events);
    hub.subscribe(DOWNLOAD_ID);
    await hub.close();
    expect(hub.size).toBe(0);
    expect(hub.reading).toBe(false);
    expect(queues.feed.stops).toBeGreaterThanOrEqual(1);
  });
});
