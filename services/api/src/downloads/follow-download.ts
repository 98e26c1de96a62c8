// Following one download, for its Server-Sent Events: `status` first, then `progress`
// as flags are decided, then `completed` (or `failed`, or `cancelled`) and the end, each a DownloadEvent
// of the public API (@flagship/common). A follow subscribes to the event hub, waits until
// the hub's feed is reading, and only then reads its first snapshot, the hub buffering
// what arrives meanwhile, so no event falls between the snapshot and the subscription.
import {
  Contracts,
  countOutcomes,
  type DownloadEvent,
  type DownloadProgress,
  type DownloadStatus,
  type FlagOutcome,
} from '@flagship/common';
import { DownloadNotFoundError } from '../errors.ts';
import type { DownloadQueues, DownloadSnapshot } from '../queues/download-queues.ts';
import type { DownloadEventHub, HubEvent, Subscription } from './download-event-hub.ts';
import { toDownloadStatus } from './download-status.ts';

export interface DownloadEventStream extends AsyncIterable<DownloadEvent> {
  close(): void;
}

export interface FollowDownloadDeps {
  hub: DownloadEventHub;
  queues: Pick<DownloadQueues, 'readSnapshot'>;
  now?: () => number;
}

/** The hub's events that end a download. */
type FinalHubEvent = Exclude<HubEvent, { type: 'outcomes' }>;

/**
 * Follow one download: `status` first, then `progress` as chunks report, then
 * `completed` (or `failed`) and the end. Throws DownloadNotFoundError before any event
 * when there is no such download, so the route can still answer 404.
 */
export async function followDownload(downloadId: string, deps: FollowDownloadDeps): Promise<DownloadEventStream> {
  const now = deps.now ?? Date.now;
  const { subscription, snapshot } = await subscribeThenReadSnapshot(downloadId, deps);
  const first = toDownloadStatus(snapshot, now());
  const iterator = downloadEvents(first, subscription, {
    progress: progressTracker(snapshot, first),
    finish: (event) => finishedStatus(downloadId, snapshot, event, { queues: deps.queues, now }),
  });
  return {
    close: () => subscription.close(),
    [Symbol.asyncIterator]: () => iterator,
  };
}

/** Subscribes first and reads the snapshot once the feed is reading; unsubscribes when either fails. */
async function subscribeThenReadSnapshot(
  downloadId: string,
  deps: FollowDownloadDeps,
): Promise<{ subscription: Subscription; snapshot: DownloadSnapshot }> {
  const subscription = deps.hub.subscribe(downloadId);
  try {
    await subscription.ready; // reading events before the snapshot: nothing falls in between
    const snapshot = await deps.queues.readSnapshot(downloadId);
    if (snapshot === undefined) throw new DownloadNotFoundError(downloadId);
    return { subscription, snapshot };
  } catch (error) {
    subscription.close();
    throw error;
  }
}

async function* downloadEvents(
  first: DownloadStatus,
  subscription: Subscription,
  on: {
    progress: (outcomes: FlagOutcome[]) => DownloadProgress | undefined;
    finish: (event: FinalHubEvent) => Promise<DownloadStatus>;
  },
): AsyncGenerator<DownloadEvent> {
  try {
    yield { event: 'status', data: first };
    if (isFinished(first)) {
      yield finalEvent(first);
      return;
    }
    for await (const hubEvent of subscription) {
      if (hubEvent.type !== 'outcomes') {
        yield finalEvent(await on.finish(hubEvent));
        return;
      }
      const progress = on.progress(hubEvent.outcomes);
      if (progress !== undefined) yield { event: 'progress', data: progress };
    }
  } finally {
    subscription.close();
  }
}

/**
 * Turns the hub's outcomes into progress: each requested flag once (a retried chunk
 * reports its outcomes again, a chunk's result repeats its progress), with the counts of
 * every flag seen so far; undefined when nothing is new.
 */
function progressTracker(
  snapshot: DownloadSnapshot,
  first: DownloadStatus,
): (outcomes: FlagOutcome[]) => DownloadProgress | undefined {
  const requested = new Set(
    Contracts.downloadJobData.check(snapshot.data) ? snapshot.data.codes : first.outcomes.map((o) => o.code),
  );
  const seen = new Map(first.outcomes.map((outcome) => [outcome.code, outcome]));
  return (outcomes) => {
    const fresh = outcomes.filter((o) => requested.has(o.code) && !seen.has(o.code));
    if (fresh.length === 0) return undefined;
    for (const outcome of fresh) seen.set(outcome.code, outcome);
    return { done: seen.size, total: first.total, ...countOutcomes(seen.values()), outcomes: fresh };
  };
}

/** The final status: from the summary the event carried, or read again from Redis. */
async function finishedStatus(
  downloadId: string,
  snapshot: DownloadSnapshot,
  event: FinalHubEvent,
  deps: { queues: FollowDownloadDeps['queues']; now: () => number },
): Promise<DownloadStatus> {
  const { now } = deps;
  if (event.type === 'completed' && event.summary !== undefined) {
    return toDownloadStatus({ ...snapshot, state: 'completed', returnValue: event.summary, finishedAt: now() }, now());
  }
  const latest = await deps.queues.readSnapshot(downloadId).catch(() => undefined);
  // A cancelled download stays cancelled, whatever its job does after.
  const latestStatus = latest === undefined ? undefined : toDownloadStatus(latest, now());
  if (latestStatus?.state === 'cancelled') return latestStatus;
  const fallback =
    event.type === 'cancelled'
      ? { ...snapshot, cancelledAt: now() }
      : { ...snapshot, state: event.type, ...(event.type === 'failed' ? { failedReason: event.reason } : {}) };
  return toDownloadStatus(latest?.state === event.type ? latest : fallback, now());
}

function isFinished(status: DownloadStatus): boolean {
  return status.state === 'completed' || status.state === 'failed' || status.state === 'cancelled';
}

function finalEvent(status: DownloadStatus): DownloadEvent {
  if (status.state === 'cancelled') return { event: 'cancelled', data: status };
  return status.state === 'failed' ? { event: 'failed', data: status } : { event: 'completed', data: status };
}
