// The load behind the Kubernetes memory requests and limits (measure-rss.sh runs it
// against a compose stack, then reads each container's peak resident memory):
//   1. the bench's sustained scenario: 50 downloads of every country at once, each
//      followed by an SSE client (the API holds the streams and its QueueEvents readers);
//   2. API intake: 10 connections submitting the reference's 20 codes for 10 s;
//   3. echo: 50 connections streaming for 10 s, then 10,000 idle connections held 5 s.
// Usage: node rss-load.ts <api base URL> <echo port>
import { HttpContracts, type DownloadStatus } from '@flagship/common';
import { holdIdleConnections, measureThroughput } from '../../../bench/echo/echo-load.ts';

const SUSTAINED_DOWNLOADS = 50;
const INTAKE_CONNECTIONS = 10;
const INTAKE_MS = 10_000;
const ECHO_STREAMS = 50;
const ECHO_IDLE_CONNECTIONS = 10_000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function submit(api: string, body: unknown): Promise<string> {
  const response = await fetch(`${api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`POST /v1/downloads answered ${response.status}`);
  return HttpContracts.downloadAccepted.parse(await response.json()).id;
}

/** The download's state; undefined when the API could not answer (a 503 while Redis is busy). */
async function state(api: string, id: string): Promise<DownloadStatus['state'] | undefined> {
  const response = await fetch(`${api}/v1/downloads/${id}`);
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return HttpContracts.downloadStatus.parse(await response.json()).state;
}

/** Reads an event stream to its end (the API ends it when the download finishes), or until aborted. */
async function follow(api: string, id: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(`${api}/v1/downloads/${id}/events`, { signal });
  for await (const _chunk of response.body ?? []) {
    // the bytes only keep the stream flowing
  }
}

async function sustained(api: string): Promise<void> {
  const ids = await Promise.all(Array.from({ length: SUSTAINED_DOWNLOADS }, () => submit(api, { all: true })));
  const followers = new AbortController();
  const streams = ids.map((id) => follow(api, id, followers.signal).catch(() => undefined));
  const started = performance.now();
  for (;;) {
    const states = await Promise.all(ids.map((id) => state(api, id)));
    if (states.every((state) => state === 'completed' || state === 'failed')) break;
    if (performance.now() - started > 300_000) throw new Error('the sustained downloads did not finish in 5 min');
    await delay(500);
  }
  followers.abort();
  await Promise.all(streams);
  console.log(
    `sustained: ${SUSTAINED_DOWNLOADS} downloads of every country in ${Math.round(performance.now() - started)} ms`,
  );
}

async function intake(api: string): Promise<void> {
  let accepted = 0;
  const until = performance.now() + INTAKE_MS;
  await Promise.all(
    Array.from({ length: INTAKE_CONNECTIONS }, async () => {
      while (performance.now() < until) {
        await submit(api, {});
        accepted += 1;
      }
    }),
  );
  console.log(`intake: ${accepted} downloads accepted in ${INTAKE_MS} ms`);
}

async function echo(port: number): Promise<void> {
  const streamed = await measureThroughput(port, { connections: ECHO_STREAMS, blockBytes: 65_536, durationMs: 10_000 });
  console.log(`echo: ${(streamed.bytesPerSecond / 2 ** 20).toFixed(0)} MiB/s over ${ECHO_STREAMS} connections`);
  const idle = await holdIdleConnections(port, {
    connections: ECHO_IDLE_CONNECTIONS,
    batch: 500,
    holdMs: 5_000,
    sample: 100,
    readRss: async () => 0,
  });
  console.log(
    `echo: ${idle.connected} idle connections held, ${idle.alive}/100 probes answered, ${idle.errors} errors`,
  );
}

const [api, echoPort] = process.argv.slice(2);
if (api === undefined || echoPort === undefined) {
  console.error('usage: node rss-load.ts <api base URL> <echo port>');
  process.exit(2);
}
await sustained(api);
await intake(api);
await echo(Number(echoPort));
