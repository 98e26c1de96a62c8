// Builds the origin's data set: every country of COUNTRY_CODES that flag-icons draws,
// rendered from its 4:3 SVG to a 200×150 GIF (as flupy.org serves), plus flupy's
// metadata.json and a manifest. Names come from world-countries, GEC (FIPS 10-4)
// codes from country-code-lookup; nothing is made up: a code a dataset lacks is left
// out (no flag, no name) or written as null (no GEC code).
//
// Deterministic and incremental: a stamp records the inputs (package versions, render
// settings, codes), so a repeated call with nothing changed only checks that the files
// are there, and a re-render rewrites only files whose bytes changed.
import { randomBytes } from 'node:crypto';
import { readFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { COUNTRY_CODES } from '@flagship/common';
import countryCodeLookup from 'country-code-lookup';
import sharp from 'sharp';
import type { Country } from 'world-countries';
import {
  FLAGS_DIR,
  METADATA_FILE,
  flagDirectory,
  gifFileName,
  manifestPath,
  serializeMetadata,
  type FlagMetadata,
} from './flag-data.ts';

export interface GenerateFlagsOptions {
  /** Data directory; files go to `{outDir}/flags/{cc}/`. */
  outDir: string;
  /** Flags rendered at the same time. Default 4. */
  concurrency?: number;
}

export interface GenerateFlagsResult {
  /** Number of flags in the data set. */
  count: number;
  /** Upper-case codes, sorted (the manifest's content). */
  codes: string[];
  /** False when the data set was already complete and up to date. */
  rendered: boolean;
}

/** Measured: density 45 gives flag-icons' 640×480 viewBox at ≥200 px wide, sharp then resizes to 200×150. */
const RENDER = { density: 45, width: 200 } as const;
/** Bump when the output format changes, so old data sets are re-rendered. */
const GENERATOR_VERSION = 1;
const STAMP_FILE = '.generated.json';

const require = createRequire(import.meta.url);
// world-countries' types declare an ES default export, but Node loads its CommonJS
// entry (`module.exports = [...]`): require gives the array the types describe.
const worldCountries = require('world-countries') as Country[];

interface FlagSource {
  code: string;
  svgPath: string;
  metadata: FlagMetadata;
}

export async function generateFlags(options: GenerateFlagsOptions): Promise<GenerateFlagsResult> {
  const outDir = path.resolve(options.outDir);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const sources = await findSources();
  const codes = sources.map((source) => source.code);
  const stamp = JSON.stringify(stampOf(codes), null, 2) + '\n';
  const stampPath = path.join(outDir, FLAGS_DIR, STAMP_FILE);

  if (await isUpToDate(outDir, stampPath, stamp, codes)) return { count: codes.length, codes, rendered: false };

  await forEachLimited(sources, concurrency, (source) => writeFlag(outDir, source));
  await writeIfChanged(manifestPath(outDir), Buffer.from(JSON.stringify(codes) + '\n'));
  // Last: a run cut short leaves no stamp, so the next run renders again.
  await writeIfChanged(stampPath, Buffer.from(stamp));
  return { count: codes.length, codes, rendered: true };
}

/** Every code we can draw and name, sorted. */
async function findSources(): Promise<FlagSource[]> {
  const svgDir = path.join(path.dirname(require.resolve('flag-icons/package.json')), 'flags', '4x3');
  const byCode = new Map(worldCountries.map((country) => [country.cca2, country]));
  const sources: FlagSource[] = [];
  for (const code of COUNTRY_CODES) {
    const country = byCode.get(code);
    const svgPath = path.join(svgDir, `${code.toLowerCase()}.svg`);
    if (country === undefined || !(await isFile(svgPath))) continue;
    sources.push({ code, svgPath, metadata: metadataOf(code, country.name.common, country.tld) });
  }
  return sources.sort((a, b) => a.code.localeCompare(b.code));
}

function metadataOf(code: string, country: string, tlds: readonly string[]): FlagMetadata {
  const gec = countryCodeLookup.byIso(code)?.fips;
  return {
    country,
    gec_cc: gec ? gec : null,
    iso_cc: code,
    // world-countries lists the ASCII ccTLD first (".cn" before ".中国").
    tld_cc: tlds[0] ?? null,
  };
}

function stampOf(codes: readonly string[]): object {
  return {
    generator: GENERATOR_VERSION,
    render: RENDER,
    versions: {
      'flag-icons': packageVersion('flag-icons'),
      'world-countries': packageVersion('world-countries'),
      'country-code-lookup': packageVersion('country-code-lookup'),
      sharp: sharp.versions.sharp ?? packageVersion('sharp'),
      libvips: sharp.versions.vips,
    },
    codes,
  };
}

function packageVersion(name: string): string {
  const packageJson = require(`${name}/package.json`) as { version: string };
  return packageJson.version;
}

async function isUpToDate(outDir: string, stampPath: string, stamp: string, codes: readonly string[]) {
  const existing = await readFile(stampPath, 'utf8').catch(() => undefined);
  if (existing !== stamp) return false;
  const files = [manifestPath(outDir)];
  for (const code of codes) {
    files.push(path.join(flagDirectory(outDir, code), gifFileName(code)));
    files.push(path.join(flagDirectory(outDir, code), METADATA_FILE));
  }
  const present = await Promise.all(files.map(isFile));
  return present.every(Boolean);
}

async function writeFlag(outDir: string, source: FlagSource): Promise<void> {
  const svg = await readFile(source.svgPath);
  const gif = await sharp(svg, { density: RENDER.density }).resize(RENDER.width).gif().toBuffer();
  const directory = flagDirectory(outDir, source.code);
  await mkdir(directory, { recursive: true });
  await writeIfChanged(path.join(directory, gifFileName(source.code)), gif);
  await writeIfChanged(path.join(directory, METADATA_FILE), Buffer.from(serializeMetadata(source.metadata)));
}

/** Atomic (temp + rename) and skipped when the same bytes are already there. */
async function writeIfChanged(file: string, bytes: Buffer): Promise<void> {
  const existing = await readFile(file).catch(() => undefined);
  if (existing?.equals(bytes)) return;
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(runners);
}
