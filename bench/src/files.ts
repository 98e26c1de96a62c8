// The downloads folders of both programs: emptied before every measured run (cold runs:
// both programs create every file), then checked after it.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Removes what is inside `dir` but keeps the folder itself: a running worker's flag
 * store created it once and will not create it again.
 */
export async function emptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  await Promise.all(entries.map((entry) => rm(path.join(dir, entry), { recursive: true, force: true })));
}

/** Saved flags in `dir`: visible `.gif` files (temp files are hidden), sorted. */
export async function listFlags(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  return entries.filter((entry) => entry.endsWith('.gif') && !entry.startsWith('.')).sort();
}

/** Names in one list and not the other, for a "same files as the reference" check. */
export function differences(a: readonly string[], b: readonly string[]): { onlyA: string[]; onlyB: string[] } {
  const setA = new Set(a);
  const setB = new Set(b);
  return { onlyA: a.filter((name) => !setB.has(name)), onlyB: b.filter((name) => !setA.has(name)) };
}
