// Where saved flags live. Workers write, the API reads; both go through this small
// interface, implemented by a local folder (here) and by an S3 bucket (s3-flag-store.ts,
// chosen with STORE=s3: createFlagStore in flag-store-factory.ts). The local
// implementation never lets a name leave its folder, writes atomically (temp file +
// rename: no reader sees a partial file, a retry never leaves two copies) and skips
// the write when the same bytes are already there (creating files is the costly part
// on this machine's disk; see docs/decisions.md).
import { randomUUID } from 'node:crypto';
import { createReadStream, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FlagshipError } from '@flagship/runtime';

/** Thrown by a flag store when a file name would leave the store or is malformed. */
export class UnsafeFileNameError extends FlagshipError {
  constructor(fileName: string) {
    super('FLAGSHIP_UNSAFE_FILE_NAME', `unsafe file name: ${JSON.stringify(fileName)}`);
    this.name = 'UnsafeFileNameError';
  }
}

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
  /**
   * Size of a saved file, or `undefined` when there is none by that name; cheap (no
   * open, no read). Optional: the worker sends conditional requests only for flags a
   * store can vouch for (a store without it gets full downloads).
   */
  stat?(fileName: string): Promise<FileInfo | undefined>;
  /**
   * A short-lived URL that serves the file straight from the store (an S3 presigned
   * GET). Optional: only stores that clients can reach directly have it; it does not
   * check that the file exists.
   */
  presign?(fileName: string, expiresInSeconds: number): Promise<string>;
}

export interface FileInfo {
  size: number;
  modifiedAt: Date;
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

  function sameBytesAlreadyThere(target: string, bytes: Uint8Array): boolean {
    // Usually there is no file yet: a stat that returns undefined for a missing file
    // builds no ENOENT error (its stack showed in the worker's CPU profile).
    const existing = statOrUndefined(target);
    if (existing === undefined || !existing.isFile() || existing.size !== bytes.byteLength) return false;
    try {
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(readFileSync(target));
    } catch {
      return false; // gone or unreadable meanwhile: write it
    }
  }

  return {
    // Synchronous file calls on purpose: a flag is a few KB into the page cache of a
    // local folder. Measured on the 2-core bench machine (250 new files into an emptied
    // folder): 19 ms of CPU in sync calls against 26 ms through the thread pool (a round
    // trip and a promise per call), and all-countries POST → completed 71 ms against
    // 85 ms. A store on a slow network file system would want its own FlagStore.
    async save(fileName, bytes) {
      const target = resolveInside(fileName);
      await (ready ??= mkdir(root, { recursive: true }));
      if (sameBytesAlreadyThere(target, bytes)) return 'unchanged';
      // Hidden temp name in the same folder (same file system, so rename is atomic);
      // readers never list or serve dot files. 'wx': never reuse another writer's file.
      const temp = path.join(root, `.${randomUUID()}.tmp`);
      try {
        writeFileSync(temp, bytes, { flag: 'wx', mode: 0o644 });
        renameSync(temp, target);
      } catch (error) {
        rmSync(temp, { force: true });
        throw error;
      }
      return 'written';
    },

    async stat(fileName) {
      const info = statOrUndefined(resolveInside(fileName));
      return info?.isFile() === true ? { size: info.size, modifiedAt: info.mtime } : undefined;
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

/** The file's stats, or undefined when it cannot be stat-ed (missing, or no permission). */
function statOrUndefined(target: string): Stats | undefined {
  try {
    return statSync(target, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
