// What each service costs before it does any work: the time to import the modules its
// main.ts imports, the heap they leave behind after a full GC, and which heavy packages
// they pull in (ioredis, bullmq, typebox, ajv). Each service is measured in a fresh
// Node process, several times, against an empty process (the baseline heap). Run:
//   node bench/src/startup/startup-cost.ts [runs]
// It prints a Markdown table; docs/decisions.md records the figures of the package split.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The modules each service's main.ts imports (main.ts itself starts the service). */
const ENTRIES: Record<string, string> = {
  api: 'services/api/src/main.ts',
  worker: 'services/worker/src/main.ts',
  echo: 'services/echo/src/main.ts',
  origin: 'services/origin/src/main.ts',
  cli: 'packages/cli/src/main.ts',
};

const HEAVY = ['ioredis', 'bullmq', 'typebox', 'ajv', 'env-schema', 'undici', 'fastify', 'i18n-iso-countries'];

/** Runs in the child: imports main.ts's own imports, then reports time, heap and packages. */
const PROBE = String.raw`
import { registerHooks } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) {
  const result = next(specifier, context);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(result.url);
  if (m) loaded.add(m[1]);
  return result;
} });
const main = process.argv[1];
const source = readFileSync(main, 'utf8');
const specifiers = [...source.matchAll(/^import\s+(?!type\b)(?:[^'"]*?from\s+)?['"]([^'"]+)['"]/gms)].map((m) => m[1]);
const base = pathToFileURL(main);
gc();
const before = process.memoryUsage().heapUsed;
const t0 = performance.now();
for (const s of specifiers) await import(s.startsWith('.') ? new URL(s, base).href : import.meta.resolve(s, base));
const ms = performance.now() - t0;
gc(); gc();
const heap = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ ms, heapMB: heap / 1048576, addedMB: (heap - before) / 1048576, packages: [...loaded] }));
`;

function measureOnce(entry: string): { ms: number; heapMB: number; packages: string[] } {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', PROBE, path.join(repoRoot, entry)],
    { cwd: path.join(repoRoot, path.dirname(entry)), encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; heapMB: number; packages: string[] };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const runs = Number(process.argv[2] ?? 5);
console.log(`| service | import ms (median of ${runs}) | heap after GC, MB | heavy packages loaded |`);
console.log('| --- | --- | --- | --- |');
for (const [service, entry] of Object.entries(ENTRIES)) {
  const samples = Array.from({ length: runs }, () => measureOnce(entry));
  const heavy = HEAVY.filter((name) => samples[0]!.packages.includes(name));
  console.log(
    `| ${service} | ${median(samples.map((s) => s.ms)).toFixed(0)} | ${median(samples.map((s) => s.heapMB)).toFixed(1)} | ${heavy.join(', ') || 'none'} |`,
  );
}
