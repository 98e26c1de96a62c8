import { describe, expect, it } from 'vitest';
import { categoryOfUrl, describeProfile, summarizeProfile, type CpuProfile } from './cpu-profile.ts';

// root → (idle); root → (garbage collector); root → save (Flagship) → writeFileSync (node:fs) → open (native);
// root → processTicksAndRejections (node internal) → write (ioredis)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 3, 4, 7] },
    { id: 2, callFrame: { functionName: '(idle)', url: '' } },
    { id: 3, callFrame: { functionName: '(garbage collector)', url: '' } },
    { id: 4, callFrame: { functionName: 'save', url: 'file:///app/packages/common/src/flag-store.ts' }, children: [5] },
    { id: 5, callFrame: { functionName: 'writeFileSync', url: 'node:fs' }, children: [6] },
    { id: 6, callFrame: { functionName: 'open', url: '' } },
    {
      id: 7,
      callFrame: { functionName: 'processTicksAndRejections', url: 'node:internal/process/task_queues' },
      children: [8],
    },
    { id: 8, callFrame: { functionName: 'write', url: 'file:///app/node_modules/ioredis/built/Redis.js' } },
  ],
  startTime: 0,
  endTime: 10_000,
  // One sample per millisecond: idle 4, GC 1, open 3, writeFileSync 1, ioredis 1.
  samples: [2, 2, 2, 2, 3, 6, 6, 6, 5, 8],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('categoryOfUrl', () => {
  it('names packages, file system and socket modules, and Flagship sources', () => {
    expect(categoryOfUrl('file:///app/node_modules/bullmq/dist/esm/classes/worker.js')).toBe('bullmq');
    expect(categoryOfUrl('file:///app/node_modules/@fastify/cors/index.js')).toBe('@fastify/cors');
    expect(categoryOfUrl('wasm://wasm/00ad0bc6')).toBe('undici');
    expect(categoryOfUrl('node:fs')).toBe('file system (node:fs)');
    expect(categoryOfUrl('node:internal/fs/promises')).toBe('file system (node:fs)');
    expect(categoryOfUrl('node:internal/stream_base_commons')).toBe('sockets and streams (node:net)');
    expect(categoryOfUrl('node:net')).toBe('sockets and streams (node:net)');
    expect(categoryOfUrl('node:internal/process/task_queues')).toBe('other Node internals');
    expect(categoryOfUrl('file:///app/services/worker/src/flags/download-flag.ts')).toBe('Flagship code');
  });
});

describe('summarizeProfile', () => {
  const summary = summarizeProfile(profile);

  it('separates idle time from busy time', () => {
    expect(summary.totalMs).toBe(10);
    expect(summary.windowed).toBe(false);
    expect(summary.busyMs).toBe(6);
  });

  it('counts only the samples inside a window of the profile clock', () => {
    // Samples are at 0, 1000, …, 9000 µs; 5000–9000 holds the open ×3, writeFileSync and ioredis ones.
    const windowed = summarizeProfile(profile, 8, { fromUs: 5000, toUs: 9000 });
    expect(windowed.windowed).toBe(true);
    expect(windowed.totalMs).toBe(4);
    expect(windowed.busyMs).toBe(5);
    expect(windowed.categories.map((c) => c.name)).toEqual(['file system (node:fs)', 'ioredis']);
  });

  it('ignores a window that holds no sample', () => {
    expect(summarizeProfile(profile, 8, { fromUs: 50_000, toUs: 60_000 }).windowed).toBe(false);
  });

  it('counts a native call towards its JavaScript caller', () => {
    const fs = summary.categories.find((c) => c.name === 'file system (node:fs)');
    expect(fs?.ms).toBe(4);
    expect(fs?.share).toBeCloseTo(4 / 6);
  });

  it('keeps GC and each package apart, largest first', () => {
    expect(summary.categories.map((c) => c.name)).toEqual(['file system (node:fs)', 'GC', 'ioredis']);
  });

  it('lists the functions with the most self time', () => {
    expect(summary.topFunctions[0]).toEqual({ name: 'open (file system (node:fs))', ms: 3, share: 0.5 });
  });

  it('survives an empty profile', () => {
    const empty = summarizeProfile({ nodes: [], startTime: 0, endTime: 0, samples: [], timeDeltas: [] });
    expect(empty).toEqual({ totalMs: 0, windowed: false, busyMs: 0, categories: [], topFunctions: [] });
  });
});

describe('describeProfile', () => {
  it('states busy time per unit and the biggest shares', () => {
    const line = describeProfile(summarizeProfile(profile), { count: 2, unit: 'download' });
    expect(line).toContain('main thread busy 6 ms of 10 ms profiled (3.0 ms per download)');
    expect(line).toContain('file system (node:fs) 66.7%');
  });
});
