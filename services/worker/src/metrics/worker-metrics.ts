// The worker's Prometheus metrics, served on its health port (WORKER_HEALTH_PORT) at
// GET /metrics. Everything is observed from outside the per-flag code:
// - requests to the origin, from undici's diagnostics channels (undici:request:create,
//   :headers, :bodyChunkReceived, :trailers, :error): duration by status class, and the
//   body bytes received;
// - jobs, from a thin wrapper around each BullMQ processor (observeJobs): jobs running
//   now, how long each took, and, from the outcome list a chunk returns, flags by outcome
//   and the retries they needed;
// - the process gauges (@flagship/runtime/metrics).
import diagnostics from 'node:diagnostics_channel';
import {
  DOWNLOAD_CANCELLED_REASON,
  DownloadShape,
  QueueNames,
  shapeOfDownloadJob,
  type FlagOutcome,
  type QueueName,
} from '@flagship/common';
import { registerProcessMetrics, scrapedCounter, statusClass } from '@flagship/runtime/metrics';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DownloadCancelledError } from '../handlers/job-run.ts';

/** A BullMQ processor that takes the abort signal (bullmq passes it to processors of three parameters). */
export type Processor<D, R> = (
  job: Job<D, R>,
  token: string | undefined,
  signal: AbortSignal | undefined,
) => Promise<R>;

export interface WorkerMetrics {
  readonly registry: Registry;
  /** `processor`, measured: jobs active, job duration, flags by outcome and retries. */
  observeJobs<D, R>(queue: QueueName, processor: Processor<D, R>): Processor<D, R>;
  /** Stops listening to undici and sampling the event loop. Safe twice. */
  close(): void;
}

export interface WorkerMetricsOptions {
  /** Requests to this URL's origin are measured (ORIGIN_URL). */
  originUrl: string;
  /** Process gauges (memory, CPU, event-loop delay). Default true; tests turn them off. */
  processMetrics?: boolean;
}

/** `outcome` label of a flag: its status, or UNCHANGED for an OK that a conditional GET found unchanged. */
export type OutcomeLabel = FlagOutcome['status'] | 'UNCHANGED';

/** What a job was: a chunk of a flow, a download of one job (a chunk itself), or a flow's parent merging. */
type JobKind = 'chunk' | 'single' | 'parent';

const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function outcomeLabel(outcome: FlagOutcome): OutcomeLabel {
  return outcome.status === 'OK' && outcome.unchanged === true ? 'UNCHANGED' : outcome.status;
}

export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const processGauges =
    options.processMetrics === false ? undefined : registerProcessMetrics(registry, { eventLoopDelay: true });

  const flags = new Counter({
    name: 'flagship_flags_total',
    help: 'Flags decided, by outcome: OK (saved), UNCHANGED (OK, not modified at the origin), NOT_FOUND, ERROR',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of ['OK', 'UNCHANGED', 'NOT_FOUND', 'ERROR'] as const) flags.inc({ outcome }, 0);
  const retries = new Counter({
    name: 'flagship_flag_retries_total',
    help: 'Origin attempts beyond the first, over the flags decided',
    registers,
  });
  const jobDuration = new Histogram({
    name: 'flagship_job_duration_seconds',
    help:
      'Jobs run by this worker, by kind (chunk, single: a download of one job, parent: merging a flow) and result ' +
      '(completed, failed, handed_back, cancelled)',
    labelNames: ['kind', 'result'] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  const jobsActive = new Gauge({
    name: 'flagship_jobs_active',
    help: 'Jobs this worker is running now, by queue',
    labelNames: ['queue'] as const,
    registers,
  });
  for (const queue of Object.values(QueueNames)) jobsActive.set({ queue }, 0);

  const origin = observeOrigin(registry, new URL(options.originUrl).origin);

  function countFlags(outcomes: readonly FlagOutcome[]): void {
    for (const outcome of outcomes) {
      flags.inc({ outcome: outcomeLabel(outcome) });
      if (outcome.attempts > 1) retries.inc(outcome.attempts - 1);
    }
  }

  return {
    registry,
    observeJobs(queue, processor) {
      // Three parameters, like the processor it wraps: bullmq passes the signal only then.
      return async (job, token, signal) => {
        const kind = kindOf(queue, job);
        const started = performance.now();
        jobsActive.inc({ queue });
        let result = 'failed';
        try {
          const value = await processor(job, token, signal);
          // A chunk of a cancelled download completes with the flags it decided before.
          result = wasCancelled(signal) ? 'cancelled' : 'completed';
          if (kind !== 'parent') countFlags(outcomesOf(value));
          return value;
        } catch (error) {
          if (error instanceof WaitingError) result = 'handed_back';
          else if (endedByCancel(error, signal)) {
            // A single-job download stops with the flags it decided; a parent, with none of its own.
            result = 'cancelled';
            if (error instanceof DownloadCancelledError) countFlags(error.decided);
          } else if (kind === 'chunk' && isFinalFailure(job, error)) countFlags(decidedOrFailed(job));
          throw error;
        } finally {
          jobsActive.dec({ queue });
          jobDuration.observe({ kind, result }, (performance.now() - started) / 1000);
        }
      };
    },
    close() {
      origin.close();
      processGauges?.stop();
    },
  };
}

/** The job was aborted because its download was cancelled (DELETE /v1/downloads/:id). */
function wasCancelled(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason === DOWNLOAD_CANCELLED_REASON;
}

/** The job ended because its download was cancelled: aborted, or given up by the mark in Redis (a parent). */
function endedByCancel(error: unknown, signal: AbortSignal | undefined): boolean {
  return wasCancelled(signal) || (error instanceof Error && error.message === DOWNLOAD_CANCELLED_REASON);
}

function kindOf(queue: QueueName, job: Job): JobKind {
  if (queue === QueueNames.flags) return 'chunk';
  return shapeOfDownloadJob(job.data) === DownloadShape.single ? 'single' : 'parent';
}

/** The outcomes in a chunk's result or a single-job download's summary. */
function outcomesOf(value: unknown): readonly FlagOutcome[] {
  const outcomes = (value as { outcomes?: unknown } | undefined)?.outcomes;
  return Array.isArray(outcomes) ? (outcomes as FlagOutcome[]) : [];
}

/** This failure fails the job for good: its flags are final as the parent will report them. */
function isFinalFailure(job: Job, error: unknown): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** A chunk that failed for good: the flags it had decided, and the rest as ERROR (what its parent reports). */
function decidedOrFailed(job: Job): FlagOutcome[] {
  const codes = (job.data as { codes?: unknown } | undefined)?.codes;
  if (!Array.isArray(codes)) return [];
  const decided = new Map(outcomesOf(job.progress).map((outcome) => [outcome.code, outcome]));
  return codes.map(
    (code: string) => decided.get(code) ?? { code, status: 'ERROR', reason: 'chunk failed', attempts: 1 },
  );
}

interface OriginObserver {
  close(): void;
}

interface InFlight {
  startedAt: number;
  statusClass?: string;
}

/** The undici request a diagnostics message is about. */
interface UndiciMessage {
  request: { origin?: unknown };
  response?: { statusCode: number };
  chunk?: { length: number };
}

function observeOrigin(registry: Registry, origin: string): OriginObserver {
  const duration = new Histogram({
    name: 'flagship_origin_request_duration_seconds',
    help: 'Requests to the origin, from sending to the end of the body, by status class (error: no complete response)',
    labelNames: ['status_class'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  let bytes = 0;
  scrapedCounter(
    registry,
    'flagship_downloaded_bytes_total',
    'Response body bytes received from the origin (GIFs and metadata.json)',
    () => bytes,
  );
  const inFlight = new WeakMap<object, InFlight>();
  const byClass = new Map<string, ReturnType<typeof duration.labels>>();
  const finish = (request: object, failed: boolean) => {
    const flight = inFlight.get(request);
    if (flight === undefined) return;
    inFlight.delete(request);
    const label = failed ? 'error' : (flight.statusClass ?? 'error');
    let child = byClass.get(label);
    if (child === undefined) byClass.set(label, (child = duration.labels({ status_class: label })));
    child.observe((performance.now() - flight.startedAt) / 1000);
  };

  const listeners: Record<string, (message: unknown) => void> = {
    'undici:request:create': (message) => {
      const { request } = message as UndiciMessage;
      if (request.origin === origin) inFlight.set(request, { startedAt: performance.now() });
    },
    'undici:request:headers': (message) => {
      const { request, response } = message as UndiciMessage;
      const flight = inFlight.get(request);
      if (flight !== undefined && response !== undefined) flight.statusClass = statusClass(response.statusCode);
    },
    'undici:request:bodyChunkReceived': (message) => {
      const { request, chunk } = message as UndiciMessage;
      if (chunk !== undefined && inFlight.has(request)) bytes += chunk.length;
    },
    'undici:request:trailers': (message) => finish((message as UndiciMessage).request, false),
    'undici:request:error': (message) => finish((message as UndiciMessage).request, true),
  };
  for (const [channel, listener] of Object.entries(listeners)) diagnostics.subscribe(channel, listener);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      for (const [channel, listener] of Object.entries(listeners)) diagnostics.unsubscribe(channel, listener);
    },
  };
}
