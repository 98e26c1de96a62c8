// A download's entries in the queues' event streams after given positions, for a
// follower that reconnects with Last-Event-ID (follow-download.ts). Reads `flags`
// (chunk jobs `{id}-c{n}`) and then `downloads` (the download's own job) with XRANGE,
// in batches, keeping the relayed events of that download, parsed as QueueEvents parses
// them. Then XINFO says whether the stream was trimmed past the position (BullMQ caps
// each stream at about 10,000 entries): entries may be missing, and the follower sends
// a fresh status instead of a replay. XINFO comes after the reads, so a trim while
// reading is noticed.
import { downloadIdOfChunkJob, QueueNames, type RedisClient } from '@flagship/common';
import { compareStreamIds } from '../downloads/event-ids.ts';
import type { EventReplay, QueueEventEntry, StreamName, StreamPositions } from './download-queues.ts';
import { RELAYED } from './on-demand-queue-events.ts';

const BATCH = 500;
const relayed = new Set<string>(RELAYED);

export async function readDownloadEventsAfter(
  connection: RedisClient,
  prefix: string,
  downloadId: string,
  positions: StreamPositions,
): Promise<EventReplay> {
  const read = (stream: StreamName, belongs: (jobId: string) => boolean) =>
    readStreamAfter(connection, `${prefix}:${QueueNames[stream]}:events`, stream, positions[stream], belongs);
  const flags = await read('flags', (jobId) => downloadIdOfChunkJob(jobId) === downloadId);
  const downloads = await read('downloads', (jobId) => jobId === downloadId);
  return { complete: flags.complete && downloads.complete, entries: [...flags.entries, ...downloads.entries] };
}

async function readStreamAfter(
  connection: RedisClient,
  key: string,
  stream: StreamName,
  after: string,
  belongs: (jobId: string) => boolean,
): Promise<EventReplay> {
  const entries: QueueEventEntry[] = [];
  for (let from = after; ;) {
    const batch = await connection.xrange(key, `(${from}`, '+', 'COUNT', BATCH);
    for (const [id, fields] of batch) {
      from = id;
      const { event, ...args } = fieldsOf(fields);
      if (event !== undefined && relayed.has(event) && belongs(String(args.jobId))) {
        entries.push({ stream, id, event, args: parseArgs(event, args) });
      }
    }
    if (batch.length < BATCH) break;
  }
  return { complete: await nothingTrimmedAfter(connection, key, after), entries };
}

function fieldsOf(fields: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string;
  return record;
}

/** As QueueEvents does: progress data and return values are JSON. */
function parseArgs(event: string, args: Record<string, string>): Record<string, unknown> {
  const field = event === 'progress' ? 'data' : event === 'completed' ? 'returnvalue' : undefined;
  if (field === undefined || args[field] === undefined) return args;
  try {
    return { ...args, [field]: JSON.parse(args[field]) };
  } catch {
    return args; // the hub checks it against its contract and drops it
  }
}

/** Whether every entry the stream ever had after `after` is still there. */
async function nothingTrimmedAfter(connection: RedisClient, key: string, after: string): Promise<boolean> {
  let reply: unknown[];
  try {
    reply = (await connection.xinfo('STREAM', key)) as unknown[];
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) return after === '0-0';
    throw error;
  }
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) info.set(String(reply[i]), reply[i + 1]);
  const length = Number(info.get('length'));
  const added = info.has('entries-added') ? Number(info.get('entries-added')) : undefined;
  if (added !== undefined && added === length) return true; // nothing was ever trimmed or deleted
  // Trimming removes the oldest entries: all before the first one left.
  const first = (info.get('first-entry') as [string, unknown] | null | undefined)?.[0];
  const oldestKept = first ?? String(info.get('last-generated-id'));
  return compareStreamIds(after, oldestKept) >= 0;
}
