// Command line: render the origin's data set.
//   node services/origin/scripts/generate-flags.ts [outDir]   (default: services/origin/data)
// Also importable: `generateFlags({ outDir, concurrency })`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFlags } from '../src/generate-flags.ts';

export { generateFlags, type GenerateFlagsOptions, type GenerateFlagsResult } from '../src/generate-flags.ts';

const DEFAULT_OUT_DIR = fileURLToPath(new URL('../data', import.meta.url));

if (import.meta.main) {
  const outDir = path.resolve(process.argv[2] ?? DEFAULT_OUT_DIR);
  const started = performance.now();
  const result = await generateFlags({ outDir });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const action = result.rendered ? 'generated' : 'already up to date:';
  console.log(`${action} ${result.count} flags in ${outDir} (${seconds}s)`);
}
