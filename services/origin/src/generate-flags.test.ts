import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTRY_CODES } from '@flagship/common';
import { generateFlags, type GenerateFlagsResult } from './generate-flags.ts';

// One render of the whole data set for this file (a few seconds), never one per test.
let outDir: string;
let first: GenerateFlagsResult;

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), 'origin-generate-'));
  first = await generateFlags({ outDir });
}, 60_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

const gifPath = (code: string) => path.join(outDir, 'flags', code.toLowerCase(), `${code.toLowerCase()}.gif`);
const metadataPath = (code: string) => path.join(outDir, 'flags', code.toLowerCase(), 'metadata.json');
const readMetadata = async (code: string) => JSON.parse(await readFile(metadataPath(code), 'utf8'));

describe('generateFlags', () => {
  it('renders at least the 194 flags of the reference origin, all known ISO codes, sorted', () => {
    expect(first.rendered).toBe(true);
    expect(first.count).toBeGreaterThanOrEqual(194);
    expect(first.codes).toHaveLength(first.count);
    expect(first.codes).toEqual([...first.codes].sort());
    for (const code of first.codes) expect(COUNTRY_CODES).toContain(code);
    expect(first.codes).toEqual(expect.arrayContaining(['CN', 'IN', 'US', 'BR', 'XK']));
  });

  it('writes the manifest: the sorted upper-case codes', async () => {
    const manifest = JSON.parse(await readFile(path.join(outDir, 'flags', 'index.json'), 'utf8'));
    expect(manifest).toEqual(first.codes);
  });

  it('writes one lower-case folder per code and nothing else beside the manifest', async () => {
    const entries = (await readdir(path.join(outDir, 'flags'))).filter((name) => !name.startsWith('.'));
    expect(entries.sort()).toEqual([...first.codes.map((code) => code.toLowerCase()), 'index.json'].sort());
  });

  it('writes real 200×150 GIF89a images for every code', async () => {
    for (const code of first.codes) {
      const gif = await readFile(gifPath(code));
      expect(gif.subarray(0, 6).toString('latin1'), code).toBe('GIF89a');
      // Logical screen size: two little-endian 16-bit words after the signature.
      expect([gif.readUInt16LE(6), gif.readUInt16LE(8)], code).toEqual([200, 150]);
      expect(gif.byteLength, code).toBeGreaterThan(200);
    }
    const decoded = await sharp(await readFile(gifPath('CN'))).metadata();
    expect(decoded).toMatchObject({ format: 'gif', width: 200, height: 150 });
  });

  it("writes flupy's metadata.json: country, gec_cc, iso_cc, tld_cc", async () => {
    expect(await readFile(metadataPath('CN'), 'utf8')).toBe(
      '{"country":"China","gec_cc":"CH","iso_cc":"CN","tld_cc":".cn"}',
    );
    expect(await readMetadata('DE')).toEqual({ country: 'Germany', gec_cc: 'GM', iso_cc: 'DE', tld_cc: '.de' });
    expect(await readMetadata('GB')).toMatchObject({ gec_cc: 'UK', iso_cc: 'GB', tld_cc: '.uk' });
    expect(await readMetadata('XK')).toMatchObject({ country: 'Kosovo', gec_cc: 'KV', iso_cc: 'XK' });
  });

  it('writes null, not a guess, where the dataset has no GEC code', async () => {
    expect(await readMetadata('UM')).toMatchObject({ iso_cc: 'UM', gec_cc: null });
    for (const code of first.codes) {
      const metadata = await readMetadata(code);
      expect(metadata.iso_cc).toBe(code);
      expect(typeof metadata.country === 'string' && metadata.country.length > 0, code).toBe(true);
      expect(metadata.gec_cc === null || /^[A-Z]{2}$/.test(metadata.gec_cc), code).toBe(true);
      expect(metadata.tld_cc === null || /^\.[a-z]{2}$/.test(metadata.tld_cc), code).toBe(true);
    }
  });

  it('does nothing on a second call when the output is complete', async () => {
    const before = (await stat(gifPath('CN'))).mtimeMs;
    const started = performance.now();
    const again = await generateFlags({ outDir });
    expect(again).toEqual({ ...first, rendered: false });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await stat(gifPath('CN'))).mtimeMs).toBe(before);
  });

  it('re-renders a damaged data set to the same bytes (deterministic output)', async () => {
    const original = await readFile(gifPath('FR'));
    const untouched = (await stat(gifPath('JP'))).mtimeMs;
    await rm(gifPath('FR'));
    await writeFile(metadataPath('BR'), '{"country":"poisoned"}');

    const repaired = await generateFlags({ outDir, concurrency: 2 });

    expect(repaired.rendered).toBe(true);
    expect(await readFile(gifPath('FR'))).toEqual(original);
    expect(await readMetadata('BR')).toMatchObject({ country: 'Brazil', iso_cc: 'BR' });
    // Same bytes are not rewritten.
    expect((await stat(gifPath('JP'))).mtimeMs).toBe(untouched);
  }, 60_000);

  it('re-renders when the stamp does not match', async () => {
    await writeFile(path.join(outDir, 'flags', '.generated.json'), '{"poisoned":true}');
    expect((await generateFlags({ outDir })).rendered).toBe(true);
    expect((await generateFlags({ outDir })).rendered).toBe(false);
  }, 60_000);

  it('rejects a bad concurrency', async () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      await expect(generateFlags({ outDir, concurrency })).rejects.toThrow(RangeError);
    }
  });
});
