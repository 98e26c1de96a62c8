// What a job handler gets for one run of a job, and the rules every handler follows:
// bad job data fails the job for good (a retry would read the same data), a shutdown
// past its grace period aborts the run with HAND_BACK as the reason, and a cancelled
// download aborts it with CANCELLED (the job ends, and is never retried).
import { DOWNLOAD_CANCELLED_REASON, type FlagOutcome } from '@flagship/common';
import type { Logger } from '@flagship/runtime';
import { UnrecoverableError } from 'bullmq';

/** The abort reason of a shutdown hand-back; any other abort fails the job as usual. */
export const HAND_BACK = 'worker shutting down: job handed back to the queue';

/** The abort reason of a cancelled download (DELETE /v1/downloads/:id); distinct from HAND_BACK. */
export const CANCELLED = DOWNLOAD_CANCELLED_REASON;

/** One run of a job, as BullMQ hands it to a processor. */
export interface JobRun {
  /** The job's lock token: moving the job back to `wait` needs it. */
  token: string | undefined;
  /** Aborted when the worker closes past its grace period (reason HAND_BACK), or its download is cancelled (CANCELLED). */
  signal: AbortSignal;
  /** Whether the job's download was cancelled; absent: it cannot be (tests). */
  cancellation?: RunCancellation;
}

/** The backstop for a cancel message the worker missed: the mark in Redis. */
export interface RunCancellation {
  /** Whether the job's download is marked cancelled in Redis. */
  isCancelled(): Promise<boolean>;
  /** Abort this run with CANCELLED (as the cancel message does). */
  cancel(): void;
}

/**
 * A run stopped because its download was cancelled, with the outcomes decided before
 * (saved flags stay). Unrecoverable: a job that lets it through fails for good, with
 * DOWNLOAD_CANCELLED_REASON.
 */
export class DownloadCancelledError extends UnrecoverableError {
  readonly decided: FlagOutcome[];

  constructor(decided: FlagOutcome[]) {
    super(DOWNLOAD_CANCELLED_REASON);
    this.name = 'DownloadCancelledError';
    this.decided = decided;
  }
}

/** Whether the run was aborted because its download was cancelled. */
export function wasCancelled(run: JobRun): boolean {
  return run.signal.aborted && run.signal.reason === CANCELLED;
}

/** A run with its logger, bound to the job's ids. */
export interface LoggedJobRun extends JobRun {
  log: Logger;
}

/** Bad job data will be bad on every attempt: fail it for good. */
export function parseOrGiveUp<T>(checker: { parse(value: unknown): T }, value: unknown): T {
  try {
    return checker.parse(value);
  } catch (error) {
    throw new UnrecoverableError((error as Error).message);
  }
}
