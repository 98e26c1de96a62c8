// What a flag's two files must look like before anything is saved. The origin is not
// trusted: a body that starts like a GIF may be cut short, padded (a GIF signature
// followed by 600 KB of zeros was once saved as OK) or followed by junk, and
// metadata.json may be any JSON at all.
//
// A GIF is checked by walking its block structure (GIF89a spec, sections 17-27): header,
// logical screen descriptor, global colour table, then extension and image blocks made
// of length-prefixed sub-blocks, until the trailer byte 0x3B, which must be the last
// byte. This sees what a signature check and a "last byte is 0x3B" check both miss: a
// body truncated where a data byte happens to be 0x3B, and bytes after the trailer. It
// jumps from one sub-block length to the next (at most 255 bytes apart) without
// decoding the image, so it costs next to nothing next to the download.

/** The longest country name accepted from metadata.json (it travels through Redis and SSE). */
export const MAX_COUNTRY_LENGTH = 200;

const SIGNATURES = ['GIF87a', 'GIF89a'];
const HEADER_BYTES = 6;
const SCREEN_DESCRIPTOR_BYTES = 7;
const IMAGE_DESCRIPTOR_BYTES = 9;
const EXTENSION_INTRODUCER = 0x21;
const IMAGE_SEPARATOR = 0x2c;
export const GIF_TRAILER = 0x3b;

export type GifCheck = { ok: true } | { ok: false; kind: 'not-gif' | 'not-whole'; problem: string };

/** Whether `bytes` is one whole GIF: its signature, every block, and the trailer as last byte. */
export function checkGif(bytes: Uint8Array): GifCheck {
  const signature = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(HEADER_BYTES, bytes.byteLength));
  if (!SIGNATURES.includes(signature.toString('latin1'))) {
    return { ok: false, kind: 'not-gif', problem: 'no GIF87a/GIF89a signature' };
  }
  const end = bytes.byteLength;
  const cut = (what: string): GifCheck => ({
    ok: false,
    kind: 'not-whole',
    problem: `truncated in the ${what}`,
  });
  let at = HEADER_BYTES;
  if (at + SCREEN_DESCRIPTOR_BYTES > end) return cut('logical screen descriptor');
  at += colourTableBytes(bytes[at + 4] as number) + SCREEN_DESCRIPTOR_BYTES;
  if (at > end) return cut('global colour table');

  while (at < end) {
    const introducer = bytes[at] as number;
    if (introducer === GIF_TRAILER) {
      const after = end - at - 1;
      return after === 0 ? { ok: true } : { ok: false, kind: 'not-whole', problem: `${after} bytes after the trailer` };
    }
    if (introducer === EXTENSION_INTRODUCER) {
      at += 2; // introducer, label
    } else if (introducer === IMAGE_SEPARATOR) {
      if (at + 1 + IMAGE_DESCRIPTOR_BYTES > end) return cut('image descriptor');
      at += 1 + IMAGE_DESCRIPTOR_BYTES + colourTableBytes(bytes[at + IMAGE_DESCRIPTOR_BYTES] as number);
      at += 1; // LZW minimum code size
      if (at > end) return cut('local colour table');
    } else {
      const byte = introducer.toString(16).padStart(2, '0');
      return { ok: false, kind: 'not-whole', problem: `unexpected byte 0x${byte} at offset ${at}, no trailer` };
    }
    at = skipSubBlocks(bytes, at);
    if (at < 0) return cut('data sub-blocks');
  }
  return { ok: false, kind: 'not-whole', problem: 'no trailer (0x3B)' };
}

/** A colour table's size from a descriptor's packed byte: 3 × 2^(n+1) bytes when present. */
function colourTableBytes(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** The offset after a run of sub-blocks and its 0 terminator, or -1 when the bytes end first. */
function skipSubBlocks(bytes: Uint8Array, from: number): number {
  let at = from;
  while (at < bytes.byteLength) {
    const size = bytes[at] as number;
    at += 1 + size;
    if (size === 0) return at;
  }
  return -1;
}

export type CountryCheck = { ok: true; country: string } | { ok: false; problem: string };

/** metadata.json must be a JSON object whose `country` is a string of at most MAX_COUNTRY_LENGTH. */
export function checkMetadata(text: string): CountryCheck {
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'metadata is not JSON' };
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return { ok: false, problem: 'metadata is not a JSON object' };
  }
  const { country } = metadata as { country?: unknown };
  if (typeof country !== 'string') return { ok: false, problem: 'metadata has no string "country"' };
  if (country.length > MAX_COUNTRY_LENGTH) {
    return {
      ok: false,
      problem: `metadata "country" is ${country.length} characters long (at most ${MAX_COUNTRY_LENGTH})`,
    };
  }
  return { ok: true, country };
}
