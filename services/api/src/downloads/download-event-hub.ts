// The process's one hub of download events, behind the Server-Sent Events. It listens
// to the event feed of both queues and fans events out, in process, to the subscriptions
// following that download (a Map lookup per event, not a Redis connection per client).
// The feed reads Redis only while someone follows: the first subscription starts it,
// and it stops a short linger after the last one has gone (so back-to-back followers
// do not pay a reconnect each). Progress comes from chunk jobs (queue `flags`) and from
// single-job downloads (queue `downloads`); a cancel is a `cancelled` entry the API
// adds to the `downloads` stream. follow-download.ts turns a subscription into
// one download's event stream.
import {
  CANCELLED_EVENT,
  Contracts,
  downloadIdOfChunkJob,
  type DownloadSummary,
  type FlagOutcome,
} from '@flagship/common';
import { silentLogger, type Logger } from '@flagship/runtime';
import type { DownloadEventFeed, QueueEventEntry, StreamName, StreamPositions } from '../queues/download-queues.ts';
import { STREAM_START } from './event-ids.ts';

/** What the hub tells a download's followers; `position` is the stream entry it came from. */
export type HubEvent = (
  | { type: 'outcomes'; outcomes: FlagOutcome[] }
  | { type: 'completed'; summary: DownloadSummary | undefined }
  | { type: 'failed'; reason: string }
  | { type: 'cancelled' }
) & { position?: { stream: StreamName; id: string } };

/** One relayed queue event: whose download it is, and what it tells (undefined: nothing valid). */
interface Relay {
  stream: StreamName;
  event: string;
  downloadIdOf(jobId: string): string | undefined;
  toHubEvent(args: Record<string, unknown>, logger: Logger): HubEvent | undefined;
}

const ownJob = (jobId: string) => jobId;

function chunkOutcomes(what: string, value: unknown, check: (v: unknown) => boolean, logger: Logger) {
  if (check(value)) return { type: 'outcomes' as const, outcomes: (value as { outcomes: FlagOutcome[] }).outcomes };
  logger.warn({ what }, 'ignored a chunk event that does not match its contract');
  return undefined;
}

/** The queue events the hub relays, and how each becomes a HubEvent. */
const RELAYS: readonly Relay[] = [
  {
    stream: 'flags',
    event: 'progress',
    downloadIdOf: downloadIdOfChunkJob,
    toHubEvent: ({ data }, logger) => chunkOutcomes('progress', data, Contracts.chunkProgress.check, logger),
  },
  {
    stream: 'flags',
    event: 'completed',
    downloadIdOf: downloadIdOfChunkJob,
    toHubEvent: ({ returnvalue }, logger) => chunkOutcomes('result', returnvalue, Contracts.chunkResult.check, logger),
  },
  // A single-job download reports a ChunkProgress of its own codes under its own id.
  {
    stream: 'downloads',
    event: 'progress',
    downloadIdOf: ownJob,
    toHubEvent: ({ data }, logger) => chunkOutcomes('progress', data, Contracts.chunkProgress.check, logger),
  },
  {
    stream: 'downloads',
    event: 'completed',
    downloadIdOf: ownJob,
    toHubEvent: ({ returnvalue }) => ({
      type: 'completed',
      summary: Contracts.downloadSummary.check(returnvalue) ? returnvalue : undefined,
    }),
  },
  // QueueEvents' `failed` is final: a job that will be retried is `delayed`/`waiting` instead.
  {
    stream: 'downloads',
    event: 'failed',
    downloadIdOf: ownJob,
    toHubEvent: ({ failedReason }) => ({ type: 'failed', reason: String(failedReason) }),
  },
  // The API's cancel script appends it (download-cancellation.ts).
  { stream: 'downloads', event: CANCELLED_EVENT, downloadIdOf: ownJob, toHubEvent: () => ({ type: 'cancelled' }) },
];

/** A stream entry read back (a replay) as the hub would have told it, or undefined. */
export function hubEventOf(entry: QueueEventEntry, logger: Logger = silentLogger()): HubEvent | undefined {
  const relay = RELAYS.find((r) => r.stream === entry.stream && r.event === entry.event);
  const event = relay?.toHubEvent(entry.args, logger);
  return event === undefined ? undefined : { ...event, position: { stream: entry.stream, id: entry.id } };
}

export interface Subscription extends AsyncIterable<HubEvent> {
  /**
   * Resolves once the feed is reading Redis: every event from then on reaches this
   * subscription. Rejects (QueueUnavailableError) when the feed could not start.
   */
  readonly ready: Promise<void>;
  /**
   * Where the feed had read up to when this subscription became ready: every event it
   * gets is after it. Before ready: the streams' start.
   */
  readonly positions: StreamPositions;
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
function createSubscription(
  ready: Promise<void>,
  positionsNow: () => StreamPositions,
  onClose: () => void,
): Subscription & { push(event: HubEvent): void } {
  const buffer: HubEvent[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let positions: StreamPositions = { downloads: STREAM_START, flags: STREAM_START };
  // Runs before any follower's own continuation of `ready`, and before any event can reach it.
  void ready.then(
    () => (positions = positionsNow()),
    () => undefined,
  );
  return {
    ready,
    get positions() {
      return positions;
    },
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

  const relayListeners = RELAYS.map((relay) => ({
    relay,
    listener: (args: Record<string, unknown>, id?: string) => {
      const subscribers = followers.get(relay.downloadIdOf(String(args.jobId)) ?? '');
      if (subscribers === undefined) return;
      const event = relay.toHubEvent(args, logger);
      if (event === undefined) return;
      const located: HubEvent = id === undefined ? event : { ...event, position: { stream: relay.stream, id } };
      for (const subscriber of subscribers) subscriber(located);
    },
  }));
  for (const { relay, listener } of relayListeners) events[relay.stream].on(relay.event, listener);

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
      const subscription = createSubscription(
        ready,
        () => events.positions(),
        () => {
          listeners.delete(subscription.push);
          if (listeners.size === 0 && followers.get(downloadId) === listeners) followers.delete(downloadId);
          open.delete(subscription);
          stopFeedSoon();
        },
      );
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
      for (const { relay, listener } of relayListeners) events[relay.stream].off(relay.event, listener);
      reading = false;
      await events.stop();
    },
  };
}
