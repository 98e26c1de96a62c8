// The benchmark's client of the Flagship API, doing what a user does: POST a download,
// then follow GET /v1/downloads/:id/events until the `completed` (or `failed`) event.
// The time is measured from before the POST to that event, by the client. Answers are
// typed with the public API's shapes (@flagship/common) but not checked, to keep the
// measured path as lean as a user's.
import type { DownloadAccepted, DownloadStatus } from '@flagship/common';
import { Agent, request } from 'undici';

export interface FinishedDownload {
  id: string;
  /** Sent POST → `completed` event received. */
  seconds: number;
  /** When the POST was sent, epoch milliseconds (sub-millisecond precision): to line up with other clocks. */
  startedAtMs: number;
  total: number;
  saved: number;
  notFound: number;
  failed: number;
  files: string[];
}

export interface DownloadsClient {
  /** Submit one download and wait for it to finish; throws if it fails or misses a flag. */
  download(body: object): Promise<FinishedDownload>;
  /** POST only: the accepted download's id. */
  submit(body: object): Promise<DownloadAccepted>;
  /** GET /v1/downloads/:id */
  status(id: string): Promise<DownloadStatus>;
  /**
   * POSTs and event streams the API refused with 503 (Redis slower than its 1 s limit:
   * seen on a machine loaded far beyond its cores) and that were sent again, as a user would.
   */
  retried(): number;
  close(): Promise<void>;
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits a Server-Sent Events text buffer into complete frames; returns them and the
 * unfinished rest. Comment lines (heartbeats) are skipped.
 */
export function takeSseFrames(buffer: string): { frames: SseEvent[]; rest: string } {
  const frames: SseEvent[] = [];
  const text = buffer.replace(/\r\n/g, '\n');
  let start = 0;
  let end: number;
  while ((end = text.indexOf('\n\n', start)) !== -1) {
    let event = 'message';
    const data: string[] = [];
    for (const line of text.slice(start, end).split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) frames.push({ event, data: data.join('\n') });
    start = end + 2;
  }
  return { frames, rest: text.slice(start) };
}

export function createDownloadsClient(apiUrl: string): DownloadsClient {
  // Keep-alive, enough sockets for 50 streams at once plus their POSTs.
  const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 60_000 });

  let retried = 0;
  /** A 503 (Redis slower than the API's 1 s limit) is tried again, as a user would, and counted. */
  async function retryingOn503(what: string, send: () => ReturnType<typeof request>, ok: number) {
    for (let attempt = 1; ; attempt++) {
      const response = await send();
      if (response.statusCode === ok) return response;
      const text = await response.body.text();
      if (response.statusCode !== 503 || attempt === 5)
        throw new Error(`${what}: HTTP ${response.statusCode}: ${text}`);
      retried += 1;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }

  async function submit(body: object): Promise<DownloadAccepted> {
    const response = await retryingOn503(
      'POST /v1/downloads',
      () =>
        request(`${apiUrl}/v1/downloads`, {
          dispatcher,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      202,
    );
    return (await response.body.json()) as DownloadAccepted;
  }

  /** The data of the `completed` or `failed` event: the final status, its state saying which. */
  async function waitForEnd(id: string): Promise<DownloadStatus> {
    const response = await retryingOn503(
      `events of ${id}`,
      () => request(`${apiUrl}/v1/downloads/${id}/events`, { dispatcher, headers: { accept: 'text/event-stream' } }),
      200,
    );
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        const { frames, rest } = takeSseFrames(buffer + (chunk as Buffer).toString('utf8'));
        buffer = rest;
        const end = frames.find((frame) => frame.event === 'completed' || frame.event === 'failed');
        if (end !== undefined) return JSON.parse(end.data) as DownloadStatus;
      }
    } finally {
      response.body.destroy();
    }
    throw new Error(`the event stream of ${id} ended before the download did`);
  }

  return {
    async download(body) {
      const started = performance.now();
      const startedAtMs = performance.timeOrigin + started;
      const { id } = await submit(body);
      const status = await waitForEnd(id);
      const seconds = (performance.now() - started) / 1000;
      if (status.state !== 'completed') throw new Error(`download ${id} failed: ${status.failedReason ?? ''}`);
      if (status.saved !== status.total) {
        const counts = { saved: status.saved, notFound: status.notFound, failed: status.failed };
        throw new Error(
          `download ${id} saved ${status.saved} of ${status.total} flags (${JSON.stringify(counts)}): ${status.message ?? ''}; ${JSON.stringify(status).slice(0, 600)}`,
        );
      }
      return {
        id,
        seconds,
        startedAtMs,
        total: status.total,
        saved: status.saved,
        notFound: status.notFound,
        failed: status.failed,
        files: status.files,
      };
    },
    submit,
    async status(id) {
      const response = await request(`${apiUrl}/v1/downloads/${id}`, { dispatcher });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`GET /v1/downloads/${id}: HTTP ${response.statusCode}: ${text}`);
      return JSON.parse(text) as DownloadStatus;
    },
    retried: () => retried,
    close: () => dispatcher.close(),
  };
}
