// What every scenario gets from the harness: the running parts, the folders, the run
// counts, and a log line writer.
import type { DownloadsClient } from '../downloads-client.ts';
import type { FlagshipStack } from '../flagship-stack.ts';
import type { BenchRedis } from '../redis.ts';
import type { ResultRow, TargetCheck } from '../report.ts';

export interface BenchContext {
  /** Measured runs per scenario (after the warm-up). */
  runs: number;
  warmups: number;
  redis: BenchRedis;
  stack: FlagshipStack;
  client: DownloadsClient;
  /** shared/baselines/seed_flags_asyncio.py */
  referenceScript: string;
  /** Flagship's DOWNLOADS_DIR and the reference's DEST_DIR: same file system. */
  dirs: { flagship: string; reference: string };
  log(line: string): void;
}

export interface ScenarioResult {
  rows: ResultRow[];
  targets: TargetCheck[];
  notes: string[];
}

export const ms = (seconds: readonly number[]): number[] => seconds.map((s) => s * 1000);
