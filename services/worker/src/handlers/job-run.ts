// What a job handler gets for one run of a job, and the two rules every handler follows:
// bad job data fails the job for good (a retry would read the same data), and a
// shutdown past its grace period aborts the run with HAND_BACK as the reason.
import type { Logger } from '@flagship/runtime';
import { UnrecoverableError } from 'bullmq';

/** The abort reason of a shutdown hand-back; any other abort fails the job as usual. */
export const HAND_BACK = 'worker shutting down: job handed back to the queue';

/** One run of a job, as BullMQ hands it to a processor. */
export interface JobRun {
  /** The job's lock token: moving the job back to `wait` needs it. */
  token: string | undefined;
  /** Aborted when the worker closes past its grace period (reason HAND_BACK). */
  signal: AbortSignal;
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
