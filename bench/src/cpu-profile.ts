// Where a process's CPU went, from a V8 CPU profile (`node --cpu-prof`): the sampled time
// of each call stack's leaf, grouped into a few categories a reader can act on (file
// system calls, sockets, GC, which package's JavaScript), and the costliest functions.
// A native function (a file system or socket binding, url "") counts towards the
// nearest JavaScript frame above it, so `writeFileSync → open` is "file system".

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the previous sample. */
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  /** Profile length (or the window's). */
  totalMs: number;
  /** Only the samples inside the window asked for were counted. */
  windowed: boolean;
  /** Sampled time not idle (the main thread working, GC included). */
  busyMs: number;
  categories: ProfileShare[];
  /** Functions with the most self time, as `name (category)`. */
  topFunctions: ProfileShare[];
}

/** The category of a frame with a script URL. */
export function categoryOfUrl(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  // undici's HTTP parser (llhttp) is WebAssembly; nothing else in these services is.
  if (url.startsWith('wasm://')) return 'undici';
  if (/^node:(internal\/)?fs\b/.test(url) || url.startsWith('node:internal/fs/')) return 'file system (node:fs)';
  if (/^node:(internal\/)?(net|stream|streams|stream_base_commons|dns|tls|http)\b/.test(url)) {
    return 'sockets and streams (node:net)';
  }
  if (url.startsWith('node:')) return 'other Node internals';
  if (/\/(services|packages)\//.test(url)) return 'Flagship code';
  return url === '' ? 'native' : 'other';
}

const SPECIAL: Record<string, string> = {
  '(idle)': 'idle',
  '(garbage collector)': 'GC',
  '(program)': 'V8/native outside JS',
  '(root)': 'V8/native outside JS',
};

/**
 * Sums the samples' self time by category. `window` (microseconds of the profile's clock:
 * V8 stamps samples with CLOCK_MONOTONIC, the clock of `process.hrtime()` of any process
 * on the same kernel, containers included) keeps only the samples inside it, so start-up
 * and shutdown do not count; a window that holds no sample is ignored (`windowed: false`).
 */
export function summarizeProfile(
  profile: CpuProfile,
  topCount = 8,
  window?: { fromUs: number; toUs: number },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const categoryCache = new Map<number, string>();
  function categoryOf(id: number): string {
    const cached = categoryCache.get(id);
    if (cached !== undefined) return cached;
    const frame = byId.get(id)?.callFrame;
    let category: string;
    if (frame === undefined) category = 'other';
    else if (SPECIAL[frame.functionName] !== undefined && frame.url === '')
      category = SPECIAL[frame.functionName] as string;
    else if (frame.url !== '') category = categoryOfUrl(frame.url);
    else {
      // A native function: it works for the nearest JavaScript caller.
      const up = parent.get(id);
      category = up === undefined ? 'native' : categoryOf(up);
    }
    categoryCache.set(id, category);
    return category;
  }

  const n = profile.samples.length;
  const at: number[] = [];
  let clock = profile.startTime;
  for (let i = 0; i < n; i++) at.push((clock += profile.timeDeltas[i] ?? 0));
  const inWindow = (i: number) =>
    window === undefined || ((at[i] as number) >= window.fromUs && (at[i] as number) <= window.toUs);
  const windowed = window !== undefined && at.some((_, i) => inWindow(i));

  const selfUs = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (windowed && !inWindow(i)) continue;
    // Sample i stands for the time until the next one (the last: the mean interval).
    const next = profile.timeDeltas[i + 1];
    const us = next !== undefined && next >= 0 ? next : (profile.endTime - profile.startTime) / Math.max(n, 1);
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  }

  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let idleUs = 0;
  let sampledUs = 0;
  for (const [id, us] of selfUs) {
    const category = categoryOf(id);
    sampledUs += us;
    if (category === 'idle') {
      idleUs += us;
      continue;
    }
    categories.set(category, (categories.get(category) ?? 0) + us);
    const frame = byId.get(id)?.callFrame;
    const name = `${frame?.functionName || '(anonymous)'} (${category})`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const busyUs = sampledUs - idleUs;
  const shares = (map: Map<string, number>) =>
    [...map.entries()]
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }))
      .sort((a, b) => b.ms - a.ms);
  return {
    totalMs: (windowed && window ? window.toUs - window.fromUs : profile.endTime - profile.startTime) / 1000,
    windowed,
    busyMs: busyUs / 1000,
    categories: shares(categories),
    topFunctions: shares(functions).slice(0, topCount),
  };
}

/** One line for RESULTS.md: the busy time and its biggest shares. */
export function describeProfile(summary: ProfileSummary, perUnit: { count: number; unit: string }, top = 9): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  const categories = summary.categories
    .slice(0, top)
    .map((c) => `${c.name} ${pct(c.share)}`)
    .join(', ');
  const functions = summary.topFunctions
    .slice(0, 6)
    .map((f) => `${f.name} ${pct(f.share)}`)
    .join(', ');
  const perOne = summary.busyMs / Math.max(perUnit.count, 1);
  return (
    `main thread busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms profiled ` +
    `(${perOne.toFixed(1)} ms per ${perUnit.unit}); by category: ${categories}; costliest functions (self time): ${functions}`
  );
}
