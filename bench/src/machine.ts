// The machine description for RESULTS.md: CPU, memory, OS, tool versions, and the file
// system the downloads folders live on (it changes results a lot on this kind of
// machine: see docs/decisions.md).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MachineInfo } from './report.ts';
import { systemVersions } from './system-packages.ts';

const run = promisify(execFile);

/** The /proc/mounts line whose mount point holds `dir` (the longest matching prefix). */
export function mountOf(mounts: string, dir: string): { point: string; type: string; options: string } | undefined {
  const target = path.resolve(dir);
  let best: { point: string; type: string; options: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [, point, type, options] = line.split(' ');
    if (point === undefined || type === undefined || options === undefined) continue;
    const inside = target === point || target.startsWith(point === '/' ? '/' : `${point}/`);
    if (inside && (best === undefined || point.length > best.point.length)) best = { point, type, options };
  }
  return best;
}

async function osName(): Promise<string> {
  const release = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(release)?.[1] ?? os.type();
  return `${pretty}, kernel ${os.release()}`;
}

export async function describeMachine(options: {
  downloadsDir: string;
  /** Folder names in the description are relative to this (the repository). */
  relativeTo: string;
  redisVersion: string;
  /** More lines (the compose stack's, the peer's). */
  more?: string[];
}): Promise<MachineInfo> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const mount = mountOf(mounts, options.downloadsDir);
  const kind = mount?.type === 'tmpfs' ? 'memory (tmpfs)' : 'disk';
  const storage =
    mount === undefined
      ? 'unknown'
      : `${kind}: ${mount.type} mounted at ${mount.point} (${mount.options.split(',').slice(0, 3).join(',')}), folder ${path.relative(options.relativeTo, path.dirname(options.downloadsDir)) || options.downloadsDir}`;
  const versions = await systemVersions();
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: await osName(),
    node: process.version,
    ...versions,
    redis: options.redisVersion,
    storage,
    ...(options.more !== undefined && options.more.length > 0 ? { more: options.more } : {}),
  };
}

/** Short commit hash, marked when the working tree has changes. */
export async function currentCommit(repoRoot: string): Promise<string> {
  try {
    const hash = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })).stdout.trim();
    const dirty = (
      await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot })
    ).stdout.trim();
    return dirty === '' ? hash : `${hash} (with uncommitted changes)`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
