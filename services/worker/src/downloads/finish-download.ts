// The end of a download, without BullMQ: its chunks' results and the chunks that failed
// for good become one summary, with one outcome per requested code. A chunk's result
// comes out of Redis, so it is checked against its contract; a flag whose chunk failed
// keeps what that chunk had already reported and is otherwise an ERROR carrying the
// chunk's failure reason.
import { Contracts, summarize, type ChunkResult, type DownloadSummary, type FlagOutcome } from '@flagship/common';

export interface FailedChunk {
  /** The child job's key, as BullMQ names it (for the log and as a last-resort reason). */
  key: string;
  /** Why it failed for good (its last error message). */
  reason: string;
  /** Its codes, when the failed job could still be read. */
  codes?: readonly string[];
  /** Outcomes it reported as progress before failing (OK ones were saved). */
  decided?: readonly FlagOutcome[];
}

export interface FinishDownloadInput {
  downloadId: string;
  /** The download's codes, in request order. */
  codes: readonly string[];
  /** `job.getChildrenValues()`: child key → return value (validated here). */
  childrenValues: Readonly<Record<string, unknown>>;
  failedChunks: readonly FailedChunk[];
  elapsedSeconds: number;
  /** Told about a child value that is not a ChunkResult of this download (it is skipped). */
  onInvalidResult?: (key: string, reason: string) => void;
}

export function finishDownload(input: FinishDownloadInput): DownloadSummary {
  const outcomes = new Map<string, FlagOutcome>();
  const record = (outcome: FlagOutcome) => outcomes.has(outcome.code) || outcomes.set(outcome.code, outcome);

  for (const [key, value] of Object.entries(input.childrenValues)) {
    const result = parseResult(value, input.downloadId);
    if (typeof result === 'string') input.onInvalidResult?.(key, result);
    else result.outcomes.forEach(record);
  }
  for (const chunk of input.failedChunks) {
    chunk.decided?.forEach(record);
    for (const code of chunk.codes ?? []) record(chunkFailed(code, chunk.reason));
  }
  // Codes that no result mentions belong to a failed chunk that could not be read back
  // (or to an invalid result): the failure reasons are the best explanation there is.
  const fallback = describeFailures(input.failedChunks);
  if (fallback !== undefined) for (const code of input.codes) record(chunkFailed(code, fallback));

  return summarize(input.codes, [...outcomes.values()], Math.max(0, input.elapsedSeconds));
}

/** The chunk's result, or why it is not a result of this download. */
function parseResult(value: unknown, downloadId: string): ChunkResult | string {
  let result: ChunkResult;
  try {
    result = Contracts.chunkResult.parse(value);
  } catch (error) {
    return (error as Error).message;
  }
  return result.downloadId === downloadId ? result : `result of another download (${result.downloadId})`;
}

function chunkFailed(code: string, reason: string): FlagOutcome {
  return { code, status: 'ERROR', reason: `chunk failed: ${reason}`, attempts: 0 };
}

function describeFailures(failures: readonly FailedChunk[]): string | undefined {
  if (failures.length === 0) return undefined;
  if (failures.length === 1) return failures[0]?.reason;
  return failures.map((failure) => `${failure.key}: ${failure.reason}`).join('; ');
}
