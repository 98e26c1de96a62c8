// The queues' event streams, read only while someone follows a download. A QueueEvents
// reads every event of its queue with a blocking XREAD on its own connection; an API
// that nobody follows has no use for them, and under intake load their reads cost the
// process about 15% of its CPU. So the readers are created on `start` and closed on
// `stop`; listeners stay on two plain emitters that outlive the readers.
//
// No event may fall between a follower's subscription and its first snapshot: `start`
// first asks Redis for the last entry of each stream (XREVRANGE … COUNT 1) and the new
// readers begin right after it, so every event added after `start` resolves is read,
// however late the reader's first XREAD reaches Redis.
import { EventEmitter } from 'node:events';
import { CANCELLED_EVENT, QueueNames, type RedisClient } from '@flagship/common';
import { type Logger } from '@flagship/runtime';
import { QueueEvents } from 'bullmq';
import type { DownloadEventFeed, StreamPositions } from './download-queues.ts';

export interface OnDemandQueueEventsOptions {
  /** Connection for the one XREVRANGE per start (the producer); not closed here. */
  connection: RedisClient;
  /** Duplicated by each QueueEvents for its blocking reads; not closed here. */
  eventsConnection: RedisClient;
  prefix: string;
  logger: Logger;
  /** Runs a Redis operation under the adapter's deadline and 503 mapping. */
  guarded<T>(what: string, operation: () => Promise<T>): Promise<T>;
}

/** The QueueEvents events the API relays (the last is the API's own, on a cancel); others are not forwarded. */
export const RELAYED = ['progress', 'completed', 'failed', CANCELLED_EVENT] as const;
const STREAMS = [QueueNames.downloads, QueueNames.flags] as const;
type StreamName = (typeof STREAMS)[number];

interface Session {
  ready: Promise<void>;
  readers: QueueEvents[];
  /** The last entry relayed from each stream, or where the readers started. */
  positions: StreamPositions;
}

export function createOnDemandQueueEvents(
  options: OnDemandQueueEventsOptions,
): DownloadEventFeed & { close(): Promise<void> } {
  const { connection, eventsConnection, prefix, logger } = options;
  const emitters: Record<StreamName, EventEmitter> = { downloads: new EventEmitter(), flags: new EventEmitter() };
  for (const emitter of Object.values(emitters)) emitter.setMaxListeners(0);
  let current: Session | undefined;
  const isCurrent = (session: Session) => current === session;

  /** The id of each stream's last entry: reading after it misses nothing from now on. */
  async function lastEventIds(): Promise<Record<StreamName, string>> {
    const pipeline = connection.pipeline();
    for (const name of STREAMS) pipeline.xrevrange(`${prefix}:${name}:events`, '+', '-', 'COUNT', 1);
    const replies = (await pipeline.exec()) ?? [];
    const ids = replies.map(([error, entries]) => {
      if (error) throw error;
      const [last] = entries as [string, string[]][];
      return last?.[0] ?? '0-0'; // an empty stream: everything it will get is new
    });
    return { downloads: ids[0] ?? '0-0', flags: ids[1] ?? '0-0' };
  }

  function startReader(session: Session, name: StreamName, lastEventId: string): QueueEvents {
    const reader = new QueueEvents(name, { connection: eventsConnection, prefix, lastEventId });
    reader.on('error', (error: Error) => logger.debug({ queue: name, err: error.message }, 'event stream error'));
    // Typed for BullMQ's own events only; a custom one (the cancel) is emitted all the same.
    const events = reader as unknown as EventEmitter;
    for (const event of RELAYED) {
      events.on(event, (args: unknown, id: string) => {
        session.positions[name] = id; // before the listeners run: they may read it
        emitters[name].emit(event, args, id);
      });
    }
    return reader;
  }

  async function closeReader(reader: QueueEvents): Promise<void> {
    for (const event of RELAYED) reader.removeAllListeners(event);
    await reader.close().catch((error: unknown) => logger.warn({ err: error }, 'closing an event stream failed'));
  }

  async function stop(): Promise<void> {
    const session = current;
    current = undefined;
    if (session === undefined) return;
    await session.ready.catch(() => undefined);
    await Promise.all(session.readers.map(closeReader));
  }

  return {
    downloads: emitters.downloads,
    flags: emitters.flags,
    start() {
      if (current !== undefined) return current.ready;
      const session: Session = { ready: Promise.resolve(), readers: [], positions: { downloads: '0-0', flags: '0-0' } };
      session.ready = (async () => {
        const ids = await options.guarded('starting the event streams', lastEventIds);
        if (!isCurrent(session)) return; // stopped meanwhile
        session.positions = { ...ids };
        session.readers = STREAMS.map((name) => startReader(session, name, ids[name]));
      })();
      current = session;
      // A failed start is forgotten, so the next follower tries again.
      session.ready.catch(() => {
        if (isCurrent(session)) current = undefined;
      });
      return session.ready;
    },
    stop,
    close: stop,
    positions: () => ({ ...(current?.positions ?? { downloads: '0-0', flags: '0-0' }) }),
  };
}
