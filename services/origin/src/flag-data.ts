// The origin's data set: where the generated files live (the layout of
// flupy.org/data/flags), the flupy metadata.json shape, and loading the whole set into
// memory once so every request is answered from RAM.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FlagshipError } from '@flagship/runtime';

/** flupy.org's metadata.json fields (keys in flupy's order: sorted). */
export interface FlagMetadata {
  /** English common name, e.g. "China". */
  country: string;
  /** FIPS 10-4 / GEC code, e.g. "CH"; `null` when the source dataset has none. */
  gec_cc: string | null;
  /** ISO 3166-1 alpha-2, upper case, e.g. "CN". */
  iso_cc: string;
  /** Country-code top-level domain, e.g. ".cn"; `null` when the source dataset has none. */
  tld_cc: string | null;
}

/** One servable file, ready to send: bytes, type and a strong ETag. */
export interface ServedFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

export interface FlagEntry {
  gif: ServedFile;
  metadata: ServedFile;
}

export interface FlagDataSet {
  /** Upper-case codes, sorted, as listed by the manifest. */
  codes: readonly string[];
  /** The manifest itself (`flags/index.json`). */
  manifest: ServedFile;
  /** Keyed by lower-case code. */
  get(code: string): FlagEntry | undefined;
}

export const FLAGS_DIR = 'flags';
export const MANIFEST_FILE = 'index.json';
export const METADATA_FILE = 'metadata.json';

/** Thrown when a data directory is missing, incomplete or malformed. */
export class FlagDataError extends FlagshipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLAGSHIP_ORIGIN_DATA', message, options);
    this.name = 'FlagDataError';
  }
}

export function gifFileName(code: string): string {
  return `${code.toLowerCase()}.gif`;
}

export function flagDirectory(dataDir: string, code: string): string {
  return path.join(dataDir, FLAGS_DIR, code.toLowerCase());
}

export function manifestPath(dataDir: string): string {
  return path.join(dataDir, FLAGS_DIR, MANIFEST_FILE);
}

/** flupy's serialisation: keys sorted, no whitespace, no trailing newline. */
export function serializeMetadata(metadata: FlagMetadata): string {
  const { country, gec_cc, iso_cc, tld_cc } = metadata;
  return JSON.stringify({ country, gec_cc, iso_cc, tld_cc });
}

export function servedFile(body: Buffer, contentType: string): ServedFile {
  // A content hash, so the ETag is the same on every replica and across restarts.
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return { body, contentType, etag: `"${digest}"` };
}

/** Read `{dataDir}/flags/index.json` and every flag it lists into memory. */
export async function loadFlagDataSet(dataDir: string): Promise<FlagDataSet> {
  const manifestBytes = await readRequired(manifestPath(dataDir));
  const codes = parseManifest(manifestBytes, manifestPath(dataDir));
  const entries = new Map<string, FlagEntry>();
  await Promise.all(
    codes.map(async (code) => {
      const directory = flagDirectory(dataDir, code);
      const [gif, metadata] = await Promise.all([
        readRequired(path.join(directory, gifFileName(code))),
        readRequired(path.join(directory, METADATA_FILE)),
      ]);
      entries.set(code.toLowerCase(), {
        gif: servedFile(gif, 'image/gif'),
        metadata: servedFile(metadata, 'application/json'),
      });
    }),
  );
  return {
    codes,
    manifest: servedFile(manifestBytes, 'application/json'),
    get: (code) => entries.get(code.toLowerCase()),
  };
}

function parseManifest(bytes: Buffer, file: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new FlagDataError(`${file} is not JSON`, { cause: error });
  }
  // The codes become path segments: only two ASCII letters may pass.
  if (!Array.isArray(parsed) || !parsed.every((code) => typeof code === 'string' && /^[A-Z]{2}$/.test(code))) {
    throw new FlagDataError(`${file} must be a JSON array of upper-case two-letter codes`);
  }
  return parsed as string[];
}

async function readRequired(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new FlagDataError(`cannot read ${file} (generate the data set first)`, { cause: error });
  }
}
