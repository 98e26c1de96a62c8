import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsafeFileNameError, createLocalFlagStore, isSafeFileName, type FlagStore } from './flag-store.ts';

let dir: string;
let store: FlagStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flagship-store-'));
  store = createLocalFlagStore(path.join(dir, 'downloads'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);

describe('isSafeFileName', () => {
  it.each(['CN_China.gif', 'CI_Côte_d’Ivoire.gif', 'a', 'x'.repeat(255)])('accepts %s', (name) => {
    expect(isSafeFileName(name)).toBe(true);
  });

  it.each([
    '',
    '.',
    '..',
    '.hidden.gif',
    '../../etc/passwd',
    'a/b.gif',
    'a\\b.gif',
    'nul\u0000.gif',
    'line\nbreak.gif',
    'é'.repeat(128), // 256 bytes
  ])('rejects %j', (name) => {
    expect(isSafeFileName(name)).toBe(false);
  });
});

describe('local flag store', () => {
  it('creates its folder and saves the bytes', async () => {
    expect(await store.save('CN_China.gif', bytes('GIF89a-cn'))).toBe('written');
    expect(await readFile(path.join(dir, 'downloads', 'CN_China.gif'), 'utf8')).toBe('GIF89a-cn');
  });

  it('does not rewrite a file that already has the same bytes', async () => {
    await store.save('CN_China.gif', bytes('same'));
    const before = await stat(path.join(dir, 'downloads', 'CN_China.gif'));
    expect(await store.save('CN_China.gif', bytes('same'))).toBe('unchanged');
    const after = await stat(path.join(dir, 'downloads', 'CN_China.gif'));
    expect(after.ino).toBe(before.ino);
  });

  it('replaces different bytes atomically and leaves no temp file', async () => {
    await store.save('CN_China.gif', bytes('old'));
    expect(await store.save('CN_China.gif', bytes('newer'))).toBe('written');
    expect(await readFile(path.join(dir, 'downloads', 'CN_China.gif'), 'utf8')).toBe('newer');
    expect(await readdir(path.join(dir, 'downloads'))).toEqual(['CN_China.gif']);
  });

  it('saves a new file when another name is already there (the common cold case)', async () => {
    await store.save('CN_China.gif', bytes('cn'));
    expect(await store.save('IN_India.gif', bytes('in'))).toBe('written');
    expect((await readdir(path.join(dir, 'downloads'))).sort()).toEqual(['CN_China.gif', 'IN_India.gif']);
  });

  it('rewrites a file of the same size but different bytes', async () => {
    await store.save('CN_China.gif', bytes('abc'));
    expect(await store.save('CN_China.gif', bytes('xyz'))).toBe('written');
    expect(await readFile(path.join(dir, 'downloads', 'CN_China.gif'), 'utf8')).toBe('xyz');
  });

  it('compares the bytes of a view into a larger buffer, not the whole buffer', async () => {
    const whole = bytes('headerGIF89a-flag-trailer');
    const view = whole.subarray(6, 18);
    expect(await store.save('CN_China.gif', view)).toBe('written');
    expect(await readFile(path.join(dir, 'downloads', 'CN_China.gif'), 'utf8')).toBe('GIF89a-flag-');
    expect(await store.save('CN_China.gif', view)).toBe('unchanged');
  });

  it('fails when a folder squats on the name, and leaves no temp file', async () => {
    await mkdir(path.join(dir, 'downloads', 'DE_Germany.gif'), { recursive: true });
    await writeFile(path.join(dir, 'downloads', 'DE_Germany.gif', 'inside'), 'x');
    await expect(store.save('DE_Germany.gif', bytes('y'))).rejects.toThrow();
    expect(await readdir(path.join(dir, 'downloads'))).toEqual(['DE_Germany.gif']);
  });

  it('is never seen half-written: readers find the old bytes or the new ones', async () => {
    const oldBytes = new Uint8Array(256 * 1024).fill(1);
    const newBytes = new Uint8Array(256 * 1024).fill(2);
    await store.save('BR_Brazil.gif', oldBytes);
    const file = path.join(dir, 'downloads', 'BR_Brazil.gif');
    const reads: Promise<Buffer>[] = [];
    const saving = store.save('BR_Brazil.gif', newBytes);
    for (let i = 0; i < 20; i++) reads.push(readFile(file));
    await saving;
    for (const read of await Promise.all(reads)) {
      expect(read.byteLength).toBe(oldBytes.byteLength);
      expect(new Set(read).size).toBe(1);
    }
    expect((await readFile(file))[0]).toBe(2);
  });

  it('writes concurrent saves of many names, each once, with no temp file left', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `F${i}.gif`);
    const results = await Promise.all(names.map((name) => store.save(name, bytes(name))));
    expect(results.every((result) => result === 'written')).toBe(true);
    expect((await readdir(path.join(dir, 'downloads'))).sort()).toEqual([...names].sort());
  });

  it('never writes outside its folder', async () => {
    for (const name of ['../escape.gif', '/etc/passwd', '..', '.tmp', 'a/../../b.gif']) {
      await expect(store.save(name, bytes('x')), name).rejects.toBeInstanceOf(UnsafeFileNameError);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('opens a saved file as a stream with its size, and undefined for a missing one', async () => {
    await store.save('FR_France.gif', bytes('bleu-blanc-rouge'));
    const file = await store.open('FR_France.gif');
    expect(file?.size).toBe(16);
    expect(await text(file!.stream)).toBe('bleu-blanc-rouge');
    expect(await store.open('XX_Nowhere.gif')).toBeUndefined();
    await expect(store.open('../../etc/passwd')).rejects.toBeInstanceOf(UnsafeFileNameError);
  });

  it('gives the size of a saved file without opening it, and undefined for a missing one or a folder', async () => {
    expect(await store.stat!('FR_France.gif')).toBeUndefined(); // not even the folder yet
    await store.save('FR_France.gif', bytes('bleu-blanc-rouge'));
    await mkdir(path.join(dir, 'downloads', 'folder.gif'));
    expect(await store.stat!('FR_France.gif')).toEqual({ size: 16, modifiedAt: expect.any(Date) });
    expect(await store.stat!('XX_Nowhere.gif')).toBeUndefined();
    expect(await store.stat!('folder.gif')).toBeUndefined();
    await expect(store.stat!('../../etc/passwd')).rejects.toBeInstanceOf(UnsafeFileNameError);
  });

  it('reports a write failure instead of pretending it saved', async () => {
    // The store's folder is a plain file: the save must fail, even for root.
    await writeFile(path.join(dir, 'not-a-folder'), 'x');
    const broken = createLocalFlagStore(path.join(dir, 'not-a-folder'));
    await expect(broken.save('DE_Germany.gif', bytes('y'))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['not-a-folder']);
  });

  it('does not serve a directory as a file', async () => {
    await store.save('seed.gif', bytes('x'));
    await mkdir(path.join(dir, 'downloads', 'folder.gif'));
    expect(await store.open('folder.gif')).toBeUndefined();
  });
});
