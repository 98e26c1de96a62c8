// Resuming an event stream on a real Redis (Last-Event-ID), the pipeline in this
// process: a reader that drops mid-download and reconnects with the id of the last
// event it got is told every flag once, missing none, with the events it missed
// replayed from the queues' event streams rather than a fresh status; when the streams
// were trimmed past its id, it gets a fresh status instead.
import { HttpContracts, QueueNames, type DownloadEvent } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { pipelinePerTest, type Pipeline } from './support/pipeline.ts';
import { readSse, type SseEvent } from './support/sse.ts';

const files = pipelinePerTest();

const CODES = ['AR', 'AT', 'AU', 'BE', 'BR', 'CA', 'CH', 'CL', 'CN', 'CO', 'CZ', 'DE', 'DK', 'EG', 'ES', 'FI'];
const isEnd = (event: SseEvent) => ['completed', 'failed', 'cancelled'].includes(event.event);

type Identified = DownloadEvent & { id: string };

function parsed(event: SseEvent): Identified {
  expect(event.id, `${event.event} has an id`).toMatch(/^\d+-\d+\.\d+-\d+\.[\w-]*$/);
  return {
    id: event.id ?? '',
    ...HttpContracts.downloadEvent.parse({ event: event.event, data: JSON.parse(event.data) }),
  };
}

/** The flags an event stream told of: the first status's outcomes, then each progress event's. */
function toldCodes(events: readonly Identified[]): string[] {
  return events.flatMap((event) => {
    if (event.event === 'progress') return event.data.outcomes.map((outcome) => outcome.code);
    if (event.event === 'status') return event.data.outcomes.map((outcome) => outcome.code);
    return [];
  });
}

async function startSlowDownload(): Promise<{ p: Pipeline; id: string; events: string }> {
  // One flag at a time in each of 2 chunks, ~60 ms a flag: a progress event every few ms.
  const pipeline = await files.start({
    chunkSize: 8,
    faults: { delayMs: [40, 80] },
    workerEnv: { WORKER_CONCURRENCY: '2', FLAG_CONCURRENCY: '1' },
  });
  const response = await fetch(`${pipeline.api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ codes: CODES }),
  });
  const { id } = HttpContracts.downloadAccepted.parse(await response.json());
  return { p: pipeline, id, events: `${pipeline.api}/v1/downloads/${id}/events` };
}

/** Reads until `count` progress events have come, then drops the connection. */
async function readThenDrop(url: string, count: number): Promise<Identified[]> {
  let progress = 0;
  const events = await readSse(url, (event) => isEnd(event) || (event.event === 'progress' && ++progress >= count));
  return events.map(parsed);
}

/** Resolves once `count` more progress events of the download have been sent to another reader. */
function moreProgress(url: string, count: number): Promise<unknown> {
  let seen = 0;
  return readSse(url, (event) => isEnd(event) || (event.event === 'progress' && ++seen >= count + 1));
}

describe('GET /v1/downloads/:id/events with Last-Event-ID', () => {
  it('resumes a dropped reader: every flag told once, the missed events replayed, not a new status', async () => {
    const { id, events: url } = await startSlowDownload();
    const before = await readThenDrop(url, 3);
    expect(before[0]?.event).toBe('status');
    // While it is away, more flags are decided (another reader sees them go by).
    await moreProgress(url, 3);

    const lastEventId = before.at(-1)?.id;
    const after = (await readSse(url, isEnd, { lastEventId })).map(parsed);
    expect(after[0]?.event).toBe('progress'); // replayed, not a fresh status
    expect(after.at(-1)).toMatchObject({ event: 'completed', data: { id, state: 'completed', saved: CODES.length } });

    const told = toldCodes([...before, ...after]);
    expect([...told].sort()).toEqual([...CODES].sort()); // every flag, none twice
    const ids = [...before, ...after].map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const last = after.filter((event) => event.event === 'progress').at(-1);
    expect(last?.data).toMatchObject({ done: CODES.length, total: CODES.length });
  });

  it('sends a fresh status when the event streams were trimmed past the id', async () => {
    const { p, events: url } = await startSlowDownload();
    const before = await readThenDrop(url, 2);
    const connection = createRedisClient({ mode: 'standalone', url: files.redisUrl() }, 'worker');
    const flags = new Queue(QueueNames.flags, { connection, prefix: p.prefix });
    try {
      await moreProgress(url, 1);
      await flags.trimEvents(0);
    } finally {
      await flags.close();
      await connection.quit();
    }
    const after = (await readSse(url, isEnd, { lastEventId: before.at(-1)?.id })).map(parsed);
    expect(after[0]?.event).toBe('status');
    expect(after.at(-1)?.event).toBe('completed');
    // From the status on, every flag once.
    const told = toldCodes(after);
    expect([...told].sort()).toEqual([...CODES].sort());
  });
});
