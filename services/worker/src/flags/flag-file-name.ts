// The file name a flag is saved under: the reference program's `{CC}_{country}.gif`
// with spaces turned into `_` (`US_United_States.gif`; the reference kept the spaces),
// made safe whatever the origin's metadata.json says. The
// country comes from the network, so it is treated as hostile: it can never add a path
// separator, a control or bidi-override character, a leading dot, a Windows-reserved
// character, or push the name past what file systems take.

/** Longest name produced, in UTF-8 bytes: well under the 255 most file systems take. */
export const MAX_FLAG_FILE_NAME_BYTES = 200;

const EXTENSION = '.gif';

// Characters Windows refuses in names, plus `%` (percent-encoding surprises when the
// API serves the file) — replaced, not dropped, so words stay apart.
const RESERVED = /[<>:"/\\|?*%]/gu;
// Control (Cc), format (Cf: bidi overrides that could fake the extension, zero-width
// characters), unassigned/private (Cn, Co) and line/paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Zl}\p{Zp}]/gu;
const WHITESPACE = /[\s\p{Zs}]+/gu;
const SEPARATOR_RUNS = /_{2,}/gu;
// Leading/trailing dots, underscores and hyphens: no hidden files, no `..`, and no
// trailing dot (Windows strips it, which could collide with another name).
const EDGE_PUNCTUATION = /^[._\-\s]+|[._\-\s]+$/gu;
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * `{CC}_{country}.gif` made safe; `{CC}.gif` when the country leaves nothing usable.
 * Throws a RangeError when `code` is not two ASCII letters (callers pass validated codes).
 */
export function flagFileName(code: string, country: string): string {
  const cc = code.toUpperCase();
  if (!/^[A-Z]{2}$/.test(cc)) throw new RangeError(`not a country code: ${JSON.stringify(code)}`);
  const prefix = `${cc}_`;
  const budget = MAX_FLAG_FILE_NAME_BYTES - Buffer.byteLength(prefix) - Buffer.byteLength(EXTENSION);
  const name = truncateToBytes(cleanCountry(country), budget).replace(EDGE_PUNCTUATION, '');
  return name === '' ? `${cc}${EXTENSION}` : `${prefix}${name}${EXTENSION}`;
}

function cleanCountry(country: string): string {
  return country
    .toWellFormed() // lone surrogates cannot be encoded as UTF-8 file names
    .normalize('NFC')
    .replace(WHITESPACE, '_') // before INVISIBLE: a tab or line break still separates words
    .replace(INVISIBLE, '')
    .replace(RESERVED, '_')
    .replace(SEPARATOR_RUNS, '_')
    .replace(EDGE_PUNCTUATION, '');
}

/** Longest prefix of whole graphemes (no split emoji or accents) within `maxBytes`. */
function truncateToBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let kept = '';
  let bytes = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = Buffer.byteLength(segment);
    if (bytes + size > maxBytes) break;
    kept += segment;
    bytes += size;
  }
  return kept;
}
