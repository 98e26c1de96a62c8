// What every FlagStore promises (packages/common/src/flag-store.ts), as one suite that
// tests/flag-store.test.ts runs against each implementation: the local folder and an
// S3 bucket. What only one store can show (an inode kept, a PUT not sent) is tested
// beside it in that file.
import { text } from 'node:stream/consumers';
import { UnsafeFileNameError, type FlagStore } from '@flagship/common';
import { describe, expect, it } from 'vitest';

const bytes = (s: string) => new TextEncoder().encode(s);

async function read(store: FlagStore, name: string): Promise<Buffer | undefined> {
  const file = await store.open(name);
  if (file === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of file.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The shared suite; `store()` gives the store under test (fresh per test or shared, names are unique). */
export function flagStoreContract(name: string, store: () => FlagStore): void {
  let n = 0;
  /** A name no other test of this run used (stores may be shared between tests). */
  const unique = (base: string) => `${base}_${process.pid}_${++n}.gif`;

  describe(`${name}: the FlagStore contract`, () => {
    it('saves bytes and opens them again, with their size and time', async () => {
      const file = unique('CN_China');
      const before = Date.now() - 5_000; // store clocks may lag a little
      expect(await store().save(file, bytes('GIF89a-cn'))).toBe('written');
      const opened = await store().open(file);
      expect(opened?.size).toBe(9);
      expect(opened?.modifiedAt.getTime()).toBeGreaterThan(before);
      expect(await text(opened!.stream)).toBe('GIF89a-cn');
    });

    it('does not write the same bytes again', async () => {
      const file = unique('BR_Brazil');
      await store().save(file, bytes('same'));
      const first = await store().stat!(file);
      expect(await store().save(file, bytes('same'))).toBe('unchanged');
      expect(await store().stat!(file)).toEqual(first);
    });

    it('replaces different bytes, of another size or the same size', async () => {
      const file = unique('DE_Germany');
      await store().save(file, bytes('abc'));
      expect(await store().save(file, bytes('xyz'))).toBe('written');
      expect((await read(store(), file))?.toString()).toBe('xyz');
      expect(await store().save(file, bytes('longer'))).toBe('written');
      expect((await read(store(), file))?.toString()).toBe('longer');
    });

    it('saves only the bytes of a view into a larger buffer', async () => {
      const file = unique('FR_France');
      const view = bytes('headerGIF89a-flag-trailer').subarray(6, 18);
      expect(await store().save(file, view)).toBe('written');
      expect((await read(store(), file))?.toString()).toBe('GIF89a-flag-');
      expect(await store().save(file, view)).toBe('unchanged');
    });

    it('keeps names as given: accents, apostrophes, 255 bytes', async () => {
      const names = [
        unique('CI_Côte_d’Ivoire'),
        unique('ST_São_Tomé_and_Príncipe'),
        `${'x'.repeat(251 - `_${process.pid}`.length)}_${process.pid}.gif`,
      ];
      for (const file of names) {
        expect(await store().save(file, bytes(file))).toBe('written');
        expect((await read(store(), file))?.toString(), file).toBe(file);
      }
    });

    it('answers undefined for a missing file, on open and on stat', async () => {
      expect(await store().open(unique('XX_Nowhere'))).toBeUndefined();
      expect(await store().stat!(unique('XX_Nowhere'))).toBeUndefined();
    });

    it('gives the size and time of a saved file with stat', async () => {
      const file = unique('IT_Italy');
      await store().save(file, bytes('verde-bianco-rosso'));
      const info = await store().stat!(file);
      expect(info?.size).toBe(18);
      expect(info?.modifiedAt).toBeInstanceOf(Date);
      expect(info?.modifiedAt.getTime()).toBe((await store().open(file))?.modifiedAt.getTime());
    });

    it.each(['../escape.gif', '/etc/passwd', '..', '.hidden.gif', 'a/b.gif', 'a\\b.gif', 'nul\u0000.gif', ''])(
      'refuses the unsafe name %j on save, open and stat',
      async (bad) => {
        await expect(store().save(bad, bytes('x'))).rejects.toBeInstanceOf(UnsafeFileNameError);
        await expect(store().open(bad)).rejects.toBeInstanceOf(UnsafeFileNameError);
        await expect(store().stat!(bad)).rejects.toBeInstanceOf(UnsafeFileNameError);
      },
    );

    it('is never read half-written: readers during a replacement get the old bytes or the new ones', async () => {
      const file = unique('JP_Japan');
      const oldBytes = new Uint8Array(256 * 1024).fill(1);
      const newBytes = new Uint8Array(256 * 1024).fill(2);
      await store().save(file, oldBytes);
      const saving = store().save(file, newBytes);
      const reads = Array.from({ length: 10 }, () => read(store(), file));
      await saving;
      for (const got of await Promise.all(reads)) {
        expect(got?.byteLength).toBe(oldBytes.byteLength);
        expect(new Set(got).size).toBe(1);
      }
      expect((await read(store(), file))?.[0]).toBe(2);
    });

    it('saves many names at once, each once', async () => {
      const names = Array.from({ length: 40 }, (_, i) => unique(`F${i}`));
      const results = await Promise.all(names.map((file) => store().save(file, bytes(file))));
      expect(results.every((result) => result === 'written')).toBe(true);
      for (const file of names) expect((await read(store(), file))?.toString()).toBe(file);
    });
  });
}
