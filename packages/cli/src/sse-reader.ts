// A small Server-Sent Events reader: reads `event:`/`data:` frames of a
// text/event-stream until `until(event)` says stop (or the stream ends). Used by
// `flagship download` to follow a download, and by the tests.
export interface SseEvent {
  event: string;
  data: string;
}

export interface ReadSseOptions {
  signal?: AbortSignal;
  /** Extra request headers (the API key). */
  headers?: Record<string, string>;
  /** Called with each event as it arrives. */
  onEvent?: (event: SseEvent) => void;
}

export async function readSse(
  url: string,
  until: (event: SseEvent) => boolean,
  options: ReadSseOptions = {},
): Promise<SseEvent[]> {
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...options.headers },
    signal: options.signal,
  });
  if (!response.ok || response.body === null) throw new Error(`SSE ${url}: HTTP ${response.status}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body.getReader();
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
        options.onEvent?.(frame);
        if (until(frame)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function parseFrame(frame: string): SseEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 && event === 'message' ? undefined : { event, data: data.join('\n') };
}
