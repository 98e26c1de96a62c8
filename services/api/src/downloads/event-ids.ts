// The `id:` of a download's Server-Sent Events. Opaque to clients; inside, it says where
// the event stream stood: the position read in each of the two queue event streams
// (BullMQ's `downloads` and `flags` events, Redis stream ids) and which requested flags
// the client has been told of (one bit per code, in request order, base64url). A client
// that reconnects with it as Last-Event-ID gets the entries after those positions
// replayed, each flag still only once: `1712345678901-0.1712345679000-3.AAAf_w`.

import type { StreamPositions } from '../queues/download-queues.ts';

/** Before any entry: every entry of the stream is after it. */
export const STREAM_START = '0-0';

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const BITS = /^[A-Za-z0-9_-]*$/;

/** Orders two Redis stream ids (`ms-seq`): negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = parseStreamId(a) ?? [0n, 0n];
  const [bMs, bSeq] = parseStreamId(b) ?? [0n, 0n];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

function parseStreamId(id: string): [bigint, bigint] | undefined {
  const match = STREAM_ID.exec(id);
  return match === null ? undefined : [BigInt(match[1] as string), BigInt(match[2] as string)];
}

export function encodeEventId(positions: StreamPositions, told: readonly boolean[]): string {
  const bytes = new Uint8Array(Math.ceil(told.length / 8));
  told.forEach((bit, index) => {
    if (bit) bytes[index >> 3]! |= 0x80 >> (index & 7);
  });
  return `${positions.downloads}.${positions.flags}.${Buffer.from(bytes).toString('base64url')}`;
}

/**
 * The positions and the told flags of a Last-Event-ID, or undefined when it is not one
 * of ours for a download of `codeCount` codes (then the client starts afresh).
 */
export function decodeEventId(
  id: string | undefined,
  codeCount: number,
): { positions: StreamPositions; told: boolean[] } | undefined {
  const [downloads, flags, bits, ...rest] = (id ?? '').split('.');
  if (rest.length > 0 || downloads === undefined || flags === undefined || bits === undefined) return undefined;
  if (parseStreamId(downloads) === undefined || parseStreamId(flags) === undefined || !BITS.test(bits))
    return undefined;
  const bytes = Buffer.from(bits, 'base64url');
  if (bytes.length !== Math.ceil(codeCount / 8)) return undefined;
  const told = Array.from(
    { length: codeCount },
    (_, index) => ((bytes[index >> 3] ?? 0) & (0x80 >> (index & 7))) !== 0,
  );
  return { positions: { downloads, flags }, told };
}
