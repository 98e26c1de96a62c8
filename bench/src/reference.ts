// Runs the reference program (shared/baselines/seed_flags_asyncio.py) once, as its
// users run it: a fresh Python process with BASE_URL and DEST_DIR in the environment
// and the codes as arguments. Reports both the wall time of the process (start-up
// included) and the elapsed time the program prints (start-up excluded).
import { spawn } from 'node:child_process';
import { PYTHON } from './system-packages.ts';

export interface ReferenceRun {
  /** Flags the program says it downloaded. */
  count: number;
  /** What it printed: "N flags downloaded in X.XXXs" (excludes interpreter start-up and imports). */
  printedSeconds: number;
  /** Spawn to exit, as a user waits for it. */
  wallSeconds: number;
}

export interface ReferenceOptions {
  script: string;
  /** BASE_URL, e.g. http://127.0.0.1:PORT/data/flags */
  baseUrl: string;
  destDir: string;
  codes: readonly string[];
}

/** Reads the program's last line; throws when it is missing (the program crashed half-way). */
export function parseReferenceOutput(stdout: string): { count: number; printedSeconds: number } {
  const match = /(\d+) flags downloaded in (\d+(?:\.\d+)?)s\s*$/.exec(stdout);
  if (match === null) throw new Error(`the reference program printed no report line: ${stdout.slice(-300)}`);
  return { count: Number(match[1]), printedSeconds: Number(match[2]) };
}

export async function runReference(options: ReferenceOptions): Promise<ReferenceRun> {
  const started = performance.now();
  const child = spawn(PYTHON, [options.script, ...options.codes], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BASE_URL: options.baseUrl, DEST_DIR: options.destDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (exitCode !== 0) throw new Error(`the reference program exited with ${exitCode}: ${stderr.slice(-500)}`);
  return { ...parseReferenceOutput(stdout), wallSeconds };
}
