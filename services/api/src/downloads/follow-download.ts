// Following one download, for its Server-Sent Events: `status` first, then `progress`
// as flags are decided, then `completed` (or `failed`, or `cancelled`) and the end, each
// a DownloadEvent of the public API (@flagship/common) with an `id:`. A follow
// subscribes to the event hub, waits until the hub's feed is reading, and only then
// reads its first snapshot, the hub buffering what arrives meanwhile, so no event falls
// between the snapshot and the subscription. A client that reconnects with
// Last-Event-ID gets the stream entries after that id replayed (XRANGE), then the live
// ones; an entry both replayed and heard live is told once (event-ids.ts).
import {
  Contracts,
  countOutcomes,
  type DownloadEvent,
  type DownloadProgress,
  type DownloadStatus,
  type FlagOutcome,
} from '@flagship/common';
import type { DownloadQueues, DownloadSnapshot, StreamPositions } from '../queues/download-queues.ts';
import { hubEventOf, type DownloadEventHub, type HubEvent, type Subscription } from './download-event-hub.ts';
import { toDownloadStatus } from './download-status.ts';
import { compareStreamIds, decodeEventId, encodeEventId } from './event-ids.ts';
import { missingDownloadError } from './missing-download.ts';

/** A DownloadEvent with its SSE `id:` (event-ids.ts). */
export type IdentifiedDownloadEvent = DownloadEvent & { id: string };

export interface DownloadEventStream extends AsyncIterable<IdentifiedDownloadEvent> {
  close(): void;
}

export interface FollowDownloadDeps {
  hub: DownloadEventHub;
  queues: Pick<DownloadQueues, 'readSnapshot' | 'readEventsAfter' | 'index'>;
  now?: () => number;
  /** The client's Last-Event-ID header: resume after that event. */
  lastEventId?: string;
}

/** The hub's events that end a download. */
type FinalHubEvent = Exclude<HubEvent, { type: 'outcomes' }>;

/** How a follow begins: a fresh `status`, or the replay of what a reconnecting client missed. */
type Start =
  { kind: 'fresh'; status: DownloadStatus } | { kind: 'resume'; replayed: HubEvent[]; status: DownloadStatus };

/**
 * Follow one download: `status` first, then `progress` as chunks report, then
 * `completed` (or `failed`, or `cancelled`) and the end. With a Last-Event-ID of this
 * download, the entries after it are replayed instead of the `status` (each flag still
 * told once); when the streams were trimmed past it, a fresh `status` comes first.
 * Throws DownloadNotFoundError (DownloadGoneError past its retention) before any event
 * when there is no such download, so the route can still answer 404 (410).
 */
export async function followDownload(downloadId: string, deps: FollowDownloadDeps): Promise<DownloadEventStream> {
  const now = deps.now ?? Date.now;
  const { subscription, snapshot } = await subscribeThenReadSnapshot(downloadId, deps);
  const status = toDownloadStatus(snapshot, now());
  const codes = Contracts.downloadJobData.check(snapshot.data)
    ? snapshot.data.codes
    : status.outcomes.map((o) => o.code);
  const known = new Map(status.outcomes.map((outcome) => [outcome.code, outcome]));
  let start: Start;
  let told: ToldFlags;
  try {
    const resume = decodeEventId(deps.lastEventId, codes.length);
    const replay = resume === undefined ? undefined : await deps.queues.readEventsAfter(downloadId, resume.positions);
    if (resume !== undefined && replay?.complete === true) {
      const replayed = replay.entries.flatMap((entry) => hubEventOf(entry) ?? []);
      start = { kind: 'resume', replayed, status };
      told = new ToldFlags(codes, status.total, resume.positions, (code, i) =>
        resume.told[i] ? { outcome: known.get(code) } : undefined,
      );
    } else {
      start = { kind: 'fresh', status };
      told = new ToldFlags(codes, status.total, subscription.positions, (code) =>
        known.has(code) ? { outcome: known.get(code) } : undefined,
      );
    }
  } catch (error) {
    subscription.close();
    throw error;
  }
  const iterator = downloadEvents(start, subscription, told, (event) =>
    finishedStatus(downloadId, snapshot, event, { queues: deps.queues, now }),
  );
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
    if (snapshot === undefined) throw await missingDownloadError(downloadId, deps.queues.index);
    return { subscription, snapshot };
  } catch (error) {
    subscription.close();
    throw error;
  }
}

async function* downloadEvents(
  start: Start,
  subscription: Subscription,
  told: ToldFlags,
  finish: (event: FinalHubEvent) => Promise<DownloadStatus>,
): AsyncGenerator<IdentifiedDownloadEvent> {
  /** The flags `outcomes` has that were not told yet, as a progress event, if any. */
  function progressOf(outcomes: readonly FlagOutcome[]): IdentifiedDownloadEvent[] {
    const progress = told.progress(outcomes);
    return progress === undefined ? [] : [{ id: told.eventId(), event: 'progress', data: progress }];
  }
  /**
   * The SSE events a hub event becomes; `final` ends the stream. Before `completed` come
   * the flags that no progress told (a chunk that ends within one progress interval
   * reports none), so every flag of a completed download is told once as progress.
   */
  async function step(hubEvent: HubEvent): Promise<{ events: IdentifiedDownloadEvent[]; final: boolean }> {
    if (!told.advance(hubEvent.position)) return { events: [], final: false }; // replayed already
    if (hubEvent.type !== 'outcomes') {
      const status = await finish(hubEvent);
      const untold = status.state === 'completed' ? progressOf(status.outcomes) : [];
      return { events: [...untold, { id: told.eventId(), ...finalEvent(status) }], final: true };
    }
    return { events: progressOf(hubEvent.outcomes), final: false };
  }
  try {
    if (start.kind === 'fresh') yield { id: told.eventId(), event: 'status', data: start.status };
    for (const hubEvent of start.kind === 'resume' ? start.replayed : []) {
      const { events, final } = await step(hubEvent);
      yield* events;
      if (final) return;
    }
    if (isFinished(start.status)) {
      yield { id: told.eventId(), ...finalEvent(start.status) };
      return;
    }
    for await (const hubEvent of subscription) {
      const { events, final } = await step(hubEvent);
      yield* events;
      if (final) return;
    }
  } finally {
    subscription.close();
  }
}

/**
 * What this client has been told: where in the two streams it stands, and which flags
 * it knows of (each requested flag once: a retried chunk reports its outcomes again, a
 * chunk's result repeats its progress). Both are in every event's id.
 */
class ToldFlags {
  readonly #codes: readonly string[];
  readonly #total: number;
  readonly #told = new Map<string, FlagOutcome | undefined>();
  #positions: StreamPositions;

  constructor(
    codes: readonly string[],
    total: number,
    positions: StreamPositions,
    toldOf: (code: string, index: number) => { outcome: FlagOutcome | undefined } | undefined,
  ) {
    this.#codes = codes;
    this.#total = total;
    this.#positions = { ...positions };
    codes.forEach((code, index) => {
      const known = toldOf(code, index);
      if (known !== undefined) this.#told.set(code, known.outcome);
    });
  }

  /** Takes an event's stream position into account; false when it was already (a replayed entry heard live). */
  advance(position: HubEvent['position']): boolean {
    if (position === undefined) return true;
    if (compareStreamIds(position.id, this.#positions[position.stream]) <= 0) return false;
    this.#positions = { ...this.#positions, [position.stream]: position.id };
    return true;
  }

  /** The flags not told yet, as a progress event with the counts of all told; undefined when nothing is new. */
  progress(outcomes: readonly FlagOutcome[]): DownloadProgress | undefined {
    const requested = new Set(this.#codes);
    const fresh = outcomes.filter((o) => requested.has(o.code) && !this.#told.has(o.code));
    if (fresh.length === 0) return undefined;
    for (const outcome of fresh) this.#told.set(outcome.code, outcome);
    const known = [...this.#told.values()].filter((outcome) => outcome !== undefined);
    return { done: this.#told.size, total: this.#total, ...countOutcomes(known), outcomes: fresh };
  }

  eventId(): string {
    return encodeEventId(
      this.#positions,
      this.#codes.map((code) => this.#told.has(code)),
    );
  }
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
