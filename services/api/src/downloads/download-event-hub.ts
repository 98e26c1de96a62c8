// The process's one hub of download events, behind the Server-Sent Events. It listens
// to the event feed of both queues and fans events out, in process, to the subscriptions
// following that download (a Map lookup per event, not a Redis connection per client).
// The feed reads Redis only while someone follows: the first subscription starts it,
// and it stops a short linger after the last one has gone (so back-to-back followers
// do not pay a reconnect each). Progress comes from chunk jobs (queue `flags`) and from
// single-job downloads (queue `downloads`). follow-download.ts turns a subscription into
// one download's event stream.
import { Contracts, downloadIdOfChunkJob, type DownloadSummary, type FlagOutcome } from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import type { DownloadEventFeed } from '../queues/download-queues.ts';

/** What the hub tells a download's followers. */
export type HubEvent =
  | { type: 'outcomes'; outcomes: FlagOutcome[] }
  | { type: 'completed'; summary: DownloadSummary | undefined }
  | { type: 'failed'; reason: string };

export interface Subscription extends AsyncIterable<HubEvent> {
  /**
   * Resolves once the feed is reading Redis: every event from then on reaches this
   * subscription. Rejects (QueueUnavailableError) when the feed could not start.
   */
  readonly ready: Promise<void>;
  /** Stop: the iteration ends at once, buffered events are dropped. Safe twice; leaving the loop does it too. */
  close(): void;
}

export interface DownloadEventHub {
  subscribe(downloadId: string): Subscription;
  /** Followers right now, for tests and metrics. */
  readonly size: number;
  /** End every subscription (shutdown: lets the SSE responses finish). */
  closeSubscriptions(): void;
  /** Whether the hub keeps the feed reading: someone follows, or the linger has not passed yet. */
  readonly reading: boolean;
  /** Detach from the feed and stop it. */
  close(): Promise<void>;
}

export interface DownloadEventHubOptions {
  logger?: Logger;
  /** How long the feed keeps reading after the last follower left. Default 5000 ms. */
  lingerMs?: number;
}

/** An unbounded single-consumer queue that an async iterator drains. */
function createSubscription(ready: Promise<void>, onClose: () => void): Subscription & { push(event: HubEvent): void } {
  const buffer: HubEvent[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    ready,
    push(event) {
      if (closed) return;
      buffer.push(event);
      wake?.();
    },
    close() {
      if (closed) return;
      closed = true;
      wake?.();
      onClose();
    },
    async *[Symbol.asyncIterator]() {
      try {
        while (!closed) {
          const next = buffer.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        this.close(); // a consumer that stops iterating (break, throw) unsubscribes
      }
    },
  };
}

export function createDownloadEventHub(
  events: DownloadEventFeed,
  options: DownloadEventHubOptions = {},
): DownloadEventHub {
  const logger = options.logger ?? silentLogger();
  const lingerMs = options.lingerMs ?? 5_000;
  const followers = new Map<string, Set<(event: HubEvent) => void>>();

  function dispatch(downloadId: string | undefined, event: () => HubEvent | undefined): void {
    const listeners = downloadId === undefined ? undefined : followers.get(downloadId);
    if (listeners === undefined) return;
    const value = event();
    if (value !== undefined) for (const listener of listeners) listener(value);
  }

  function chunkOutcomes(what: string, value: unknown, check: (v: unknown) => boolean): HubEvent | undefined {
    if (check(value)) return { type: 'outcomes', outcomes: (value as { outcomes: FlagOutcome[] }).outcomes };
    logger.warn({ what }, 'ignored a chunk event that does not match its contract');
    return undefined;
  }

  const onChunkProgress = ({ jobId, data }: { jobId: string; data: unknown }) =>
    dispatch(downloadIdOfChunkJob(jobId), () => chunkOutcomes('progress', data, Contracts.chunkProgress.check));
  // A single-job download reports a ChunkProgress of its own codes under its own id.
  const onDownloadProgress = ({ jobId, data }: { jobId: string; data: unknown }) =>
    dispatch(jobId, () => chunkOutcomes('progress', data, Contracts.chunkProgress.check));
  const onChunkCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) =>
    dispatch(downloadIdOfChunkJob(jobId), () => chunkOutcomes('result', returnvalue, Contracts.chunkResult.check));
  const onDownloadCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) =>
    dispatch(jobId, () => ({
      type: 'completed',
      summary: Contracts.downloadSummary.check(returnvalue) ? returnvalue : undefined,
    }));
  // QueueEvents' `failed` is final: a job that will be retried is `delayed`/`waiting` instead.
  const onDownloadFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) =>
    dispatch(jobId, () => ({ type: 'failed', reason: failedReason }));

  events.flags.on('progress', onChunkProgress);
  events.flags.on('completed', onChunkCompleted);
  events.downloads.on('progress', onDownloadProgress);
  events.downloads.on('completed', onDownloadCompleted);
  events.downloads.on('failed', onDownloadFailed);

  const open = new Set<Subscription>();
  let reading = false;
  let lingering: NodeJS.Timeout | undefined;

  function startFeed(): Promise<void> {
    clearTimeout(lingering);
    lingering = undefined;
    reading = true;
    return events.start();
  }

  function stopFeed(): void {
    reading = false;
    events.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the event feed failed'));
  }

  /** The last follower left: stop reading after the linger, unless someone comes back. */
  function stopFeedSoon(): void {
    if (open.size > 0 || !reading) return;
    clearTimeout(lingering);
    lingering = setTimeout(stopFeed, lingerMs);
    lingering.unref();
  }

  return {
    subscribe(downloadId) {
      let listeners = followers.get(downloadId);
      if (listeners === undefined) followers.set(downloadId, (listeners = new Set()));
      const ready = startFeed();
      ready.catch(() => undefined); // the follower awaits it; this only keeps it from being unhandled
      const subscription = createSubscription(ready, () => {
        listeners.delete(subscription.push);
        if (listeners.size === 0 && followers.get(downloadId) === listeners) followers.delete(downloadId);
        open.delete(subscription);
        stopFeedSoon();
      });
      listeners.add(subscription.push);
      open.add(subscription);
      return subscription;
    },
    get size() {
      return open.size;
    },
    get reading() {
      return reading;
    },
    closeSubscriptions() {
      for (const subscription of [...open]) subscription.close();
    },
    async close() {
      this.closeSubscriptions();
      clearTimeout(lingering);
      events.flags.off('progress', onChunkProgress);
      events.flags.off('completed', onChunkCompleted);
      events.downloads.off('progress', onDownloadProgress);
      events.downloads.off('completed', onDownloadCompleted);
      events.downloads.off('failed', onDownloadFailed);
      reading = false;
      await events.stop();
    },
  };
}
