// A small Server-Sent Events reader: reads `event:`/`id:`/`data:` frames of a
// text/event-stream until `until(event)` says stop (or the stream ends). Used by the
// commands that follow a download, and by the tests.
export interface SseEvent {
  event: string;
  data: string;
  /** The frame's `id:`, when it has one (sent back as Last-Event-ID to resume). */
  id?: string;
}

export interface ReadSseOptions {
  signal?: AbortSignal;
  /** Request headers, e.g. authorization or last-event-id. */
  headers?: Record<string, string>;
  /** Called with each event as it arrives. */
  onEvent?: (event: SseEvent) => void;
  /** Sent as Last-Event-ID: the server resumes after that event. */
  lastEventId?: string;
}

/** Opens `url` as an event stream and reads it (see readEventStream). */
export async function readSse(
  url: string,
  until: (event: SseEvent) => boolean,
  options: ReadSseOptions = {},
): Promise<SseEvent[]> {
  const headers: Record<string, string> = { ...options.headers, accept: 'text/event-stream' };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: options.signal });
  if (!response.ok || response.body === null) throw new Error(`SSE ${url}: HTTP ${response.status}`);
  return readEventStream(response.body, until, options.onEvent);
}

/**
 * Reads the frames of an event stream's body until `until(event)` is true or the body
 * ends, and returns them; the body is released either way. Errors of the connection
 * (and of onEvent) are thrown as they are.
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  until: (event: SseEvent) => boolean,
  onEvent?: (event: SseEvent) => void,
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame === undefined) continue;
        events.push(frame);
        onEvent?.(frame);
        if (until(frame)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function parseFrame(frame: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\u0000')) id = value;
  }
  if (data.length === 0 && event === 'message') return undefined;
  return { event, data: data.join('\n'), ...(id === undefined ? {} : { id }) };
}
