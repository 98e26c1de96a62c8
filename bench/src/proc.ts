// CPU time and memory of processes and containers, read from /proc and the cgroup file
// system, for "where does the time go" rows: what the worker, the API, Redis and
// docker-proxy each spent per download, inside and outside containers alike (a
// container's process is an ordinary host process with a host pid).
import { readdir, readFile } from 'node:fs/promises';

/** Time on CPU in nanoseconds: the first field of /proc/<pid>/task/<tid>/schedstat. */
export function parseSchedstat(text: string): number {
  const first = text.trim().split(/\s+/)[0];
  const value = Number(first);
  if (first === undefined || first === '' || !Number.isFinite(value))
    throw new Error(`not a schedstat line: "${text}"`);
  return value;
}

/**
 * CPU time of every thread of `pid` (libuv's pool and V8's GC helpers included), in
 * nanoseconds; 0 once the process is gone. Threads that already exited are not counted:
 * fine for long-lived services, whose threads live as long as they do.
 */
export async function processCpuNs(pid: number): Promise<number> {
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  const times = await Promise.all(
    tasks.map((tid) => readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').then(parseSchedstat, () => 0)),
  );
  return times.reduce((sum, ns) => sum + ns, 0);
}

/**
 * CPU time of everything a container ran, in nanoseconds (its cgroup: the service and
 * every `docker exec`, healthchecks included), or undefined where the cgroup cannot be
 * read. cgroup v1 (these machines) or v2.
 */
export async function containerCpuNs(containerId: string): Promise<number | undefined> {
  const v1 = await readFile(`/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`, 'utf8').catch(
    () => undefined,
  );
  if (v1 !== undefined) return Number(v1.trim());
  const v2 = await readFile(`/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`, 'utf8').catch(
    () => undefined,
  );
  const usec = v2 === undefined ? undefined : /^usage_usec (\d+)$/m.exec(v2)?.[1];
  return usec === undefined ? undefined : Number(usec) * 1000;
}

/** Child pids of `pid` (its main thread's children), from /proc. */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text
    .split(/\s+/)
    .filter((word) => word !== '')
    .map(Number);
}

/** NUL-separated /proc/<pid>/cmdline as words. */
export function parseCmdline(raw: string): string[] {
  return raw.split('\0').filter((word) => word !== '');
}

/** Pids of running processes whose command line matches `test`. */
export async function findProcesses(test: (words: readonly string[]) => boolean): Promise<number[]> {
  const entries = await readdir('/proc');
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (raw !== '' && test(parseCmdline(raw))) found.push(Number(entry));
  }
  return found;
}

/** The parent pid in /proc/<pid>/stat (the field after the state; the command may hold spaces and parentheses). */
export function parseParentPid(stat: string): number {
  const afterCommand = stat
    .slice(stat.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/);
  const ppid = Number(afterCommand[1]);
  if (!Number.isInteger(ppid) || ppid < 0) throw new Error(`not a /proc/<pid>/stat line: "${stat.slice(0, 80)}"`);
  return ppid;
}

/** Running processes with their parent and command line. */
export async function processTable(): Promise<{ pid: number; ppid: number; words: string[] }[]> {
  const table: { pid: number; ppid: number; words: string[] }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [stat, cmdline] = await Promise.all([
        readFile(`/proc/${entry}/stat`, 'utf8'),
        readFile(`/proc/${entry}/cmdline`, 'utf8'),
      ]);
      table.push({ pid: Number(entry), ppid: parseParentPid(stat), words: parseCmdline(cmdline) });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}
