// Where saved flags live. Workers write, the API reads; both go through this small
// interface so a shared object store can replace the local folder later. The local
// implementation never lets a name leave its folder, writes atomically (temp file +
// rename: no reader sees a partial file, a retry never leaves two copies) and skips
// the write when the same bytes are already there (creating files is the costly part
// on this machine's disk; see shared/notes/queue-granularity.md).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { UnsafeFileNameError } from './errors.ts';

export type SaveResult = 'written' | 'unchanged';

export interface StoredFile {
  stream: Readable;
  size: number;
  modifiedAt: Date;
}

export interface FlagStore {
  /** Save `bytes` as `fileName`, atomically. */
  save(fileName: string, bytes: Uint8Array): Promise<SaveResult>;
  /** Open a saved file, or `undefined` when there is none by that name. */
  open(fileName: string): Promise<StoredFile | undefined>;
}

/** Longest file name most file systems take (bytes, UTF-8). */
export const MAX_FILE_NAME_BYTES = 255;

/**
 * True for a plain file name: no separators, no control characters, not hidden,
 * not `.`/`..`, and short enough for any file system.
 */
export function isSafeFileName(fileName: string): boolean {
  return (
    fileName.length > 0 &&
    Buffer.byteLength(fileName) <= MAX_FILE_NAME_BYTES &&
    !fileName.startsWith('.') &&
    !/[/\\\p{Cc}]/u.test(fileName) &&
    path.basename(fileName) === fileName
  );
}

export function createLocalFlagStore(directory: string): FlagStore {
  const root = path.resolve(directory);
  let ready: Promise<unknown> | undefined;

  function resolveInside(fileName: string): string {
    if (!isSafeFileName(fileName)) throw new UnsafeFileNameError(fileName);
    const target = path.join(root, fileName);
    if (path.dirname(target) !== root) throw new UnsafeFileNameError(fileName);
    return target;
  }

  async function sameBytesAlreadyThere(target: string, bytes: Uint8Array): Promise<boolean> {
    try {
      const existing = await stat(target);
      if (!existing.isFile() || existing.size !== bytes.byteLength) return false;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(await readFile(target));
    } catch {
      return false;
    }
  }

  return {
    async save(fileName, bytes) {
      const target = resolveInside(fileName);
      await (ready ??= mkdir(root, { recursive: true }));
      if (await sameBytesAlreadyThere(target, bytes)) return 'unchanged';
      // Hidden temp name in the same folder (same file system, so rename is atomic);
      // readers never list or serve dot files.
      const temp = path.join(root, `.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const handle = await open(temp, 'wx', 0o644);
        try {
          await handle.writeFile(bytes);
        } finally {
          await handle.close();
        }
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return 'written';
    },

    async open(fileName) {
      const target = resolveInside(fileName);
      try {
        const info = await stat(target);
        if (!info.isFile()) return undefined;
        return { stream: createReadStream(target), size: info.size, modifiedAt: info.mtime };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}
