// The work of one chunk job, without BullMQ: download its flags concurrently under a
// limit, report cumulative progress (throttled: each report costs Redis commands and an
// event), and skip the flags a previous attempt already decided, so a retried or
// taken-over chunk never downloads a flag twice.
import type { FlagOutcome } from '@flagship/common';

export interface ProcessChunkOptions {
  codes: readonly string[];
  /** Flags downloaded at once. */
  concurrency: number;
  /** Download one flag; throws only for what must fail the chunk (store errors, abort). */
  downloadOne: (code: string, signal: AbortSignal) => Promise<FlagOutcome>;
  /** Outcomes a previous attempt reported (the job's progress); OK and NOT_FOUND are kept. */
  previous?: readonly FlagOutcome[];
  /**
   * Called with every outcome decided so far: at most once per `progressIntervalMs`
   * while flags run, the first one interval after the chunk starts, and once more when
   * the chunk fails (so a retry skips what was done). A chunk that succeeds is not
   * reported at its end: its result carries every outcome. Calls never overlap.
   */
  onProgress?: (outcomes: FlagOutcome[]) => Promise<void> | void;
  /** Default 100 ms. */
  progressIntervalMs?: number;
  /** A progress report that failed while a later one will carry the same outcomes. */
  onProgressError?: (error: unknown) => void;
  /** Stops starting flags and aborts those running (shutdown). */
  signal: AbortSignal;
}

/** Outcomes in the order of `codes`. */
export async function processChunk(options: ProcessChunkOptions): Promise<FlagOutcome[]> {
  const decided = keepFinalOutcomes(options.codes, options.previous ?? []);
  const pending = options.codes.filter((code) => !decided.has(code));
  const progress = createProgressReporter(options, () => [...decided.values()]);
  const failure = await runLimited(pending, options.concurrency, options.signal, async (code) => {
    decided.set(code, await options.downloadOne(code, options.signal));
    progress.changed();
  });
  if (failure === undefined) {
    // The result carries every outcome (bench/README.md, the progress levers); only the
    // reports already sent are waited for, so none lands after the chunk's end.
    await progress.settle();
    return options.codes.map((code) => decided.get(code) as FlagOutcome);
  }
  // Report what was decided: a retry of this chunk starts from there.
  try {
    await progress.flush();
  } catch (error) {
    options.onProgressError?.(error); // the chunk's own failure is the one to report
  }
  throw failure.error;
}

/** OK and NOT_FOUND are final; an ERROR from an earlier attempt deserves another try. */
function keepFinalOutcomes(codes: readonly string[], previous: readonly FlagOutcome[]): Map<string, FlagOutcome> {
  const wanted = new Set(codes);
  const kept = new Map<string, FlagOutcome>();
  for (const outcome of previous) {
    if (wanted.has(outcome.code) && (outcome.status === 'OK' || outcome.status === 'NOT_FOUND')) {
      kept.set(outcome.code, outcome);
    }
  }
  return kept;
}

/**
 * Runs `task` over `items` with at most `limit` at once. The first failure (or the
 * abort of `signal`) stops new tasks from starting; running ones are waited for, so
 * nothing is left writing in the background. Returns that first failure, if any.
 */
async function runLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  task: (item: T) => Promise<void>,
): Promise<{ error: unknown } | undefined> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (failure === undefined && next < items.length) {
      if (signal.aborted) {
        failure = { error: signal.reason };
        return;
      }
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  const lanes = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return failure;
}

interface ProgressReporter {
  /** Something was decided: report it soon (now, or when the interval has passed). */
  changed(): void;
  /** Report the latest state now and wait for every report to be written. */
  flush(): Promise<void>;
  /** Report nothing more; wait for the reports already sent. */
  settle(): Promise<void>;
}

function createProgressReporter(options: ProcessChunkOptions, snapshot: () => FlagOutcome[]): ProgressReporter {
  const report = options.onProgress;
  const interval = options.progressIntervalMs ?? 100;
  // The first report waits one interval too: a chunk that ends sooner sends none (its
  // result has the outcomes), which spares Redis and the API two writes and two events.
  let lastSentAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  // Reports are chained so an older one never lands after a newer one.
  let chain: Promise<void> = Promise.resolve();

  function send(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    lastSentAt = performance.now();
    const outcomes = snapshot();
    const sent = chain.then(() => report?.(outcomes));
    chain = sent.catch(() => {}); // the chain only orders reports; each caller handles its error
    return sent;
  }

  function sendSoon(): void {
    // A later report carries the same outcomes, so a failed one is only worth a log line.
    void send().catch((error: unknown) => options.onProgressError?.(error));
  }

  return {
    changed() {
      if (report === undefined || timer !== undefined) return;
      const wait = lastSentAt + interval - performance.now();
      if (wait <= 0) sendSoon();
      else timer = setTimeout(sendSoon, wait);
    },
    async settle() {
      clearTimeout(timer);
      timer = undefined;
      await chain;
    },
    async flush() {
      if (report === undefined) return;
      await chain;
      await send(); // the last report's failure fails the chunk: nothing supersedes it
    },
  };
}
