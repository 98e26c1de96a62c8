// Fault injection for tests and benchmarks: make the origin behave like a slow or
// flaky upstream. Options are validated up front (a bad rate is a start-up error, not
// a silently healthy origin), and a seed makes the random choices reproducible.
import { isCountryCode } from '@flagship/common';
import { FlagshipError } from '@flagship/runtime';

export interface FaultOptions {
  /** Delay every flag response by a random whole number of ms in [min, max]. Default: none. */
  delayMs?: readonly [min: number, max: number];
  /** Share of flag requests (0..1) answered 503 Service Unavailable. Default 0. */
  errorRate?: number;
  /** Seed (integer) for reproducible delays and errors. Default: Math.random. */
  seed?: number;
  /** Codes that always answer 500 Internal Server Error, any case. Default: none. */
  failCodes?: readonly string[];
}

/** What to do with one flag request, decided before it is answered. */
export interface FaultDecision {
  delayMs: number;
  /** 0 when the request is served normally. */
  status: 0 | 500 | 503;
}

export interface FaultPlan {
  readonly active: boolean;
  decide(code: string): FaultDecision;
}

/** Longest delay accepted: longer would look like a hang, not a slow upstream. */
export const MAX_DELAY_MS = 60_000;

export class FaultOptionsError extends FlagshipError {
  constructor(message: string) {
    super('FLAGSHIP_ORIGIN_FAULTS', message);
    this.name = 'FaultOptionsError';
  }
}

const NO_FAULT: FaultDecision = Object.freeze({ delayMs: 0, status: 0 });

export function createFaultPlan(options: FaultOptions = {}): FaultPlan {
  validateFaultOptions(options);
  const [minDelay, maxDelay] = options.delayMs ?? [0, 0];
  const errorRate = options.errorRate ?? 0;
  const failCodes = new Set((options.failCodes ?? []).map((code) => code.toUpperCase()));
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  const active = maxDelay > 0 || errorRate > 0 || failCodes.size > 0;

  return {
    active,
    decide(code) {
      if (!active) return NO_FAULT;
      const delayMs = maxDelay > 0 ? minDelay + Math.floor(random() * (maxDelay - minDelay + 1)) : 0;
      if (failCodes.has(code.toUpperCase())) return { delayMs, status: 500 };
      const status = errorRate > 0 && random() < errorRate ? 503 : 0;
      return { delayMs, status };
    },
  };
}

export function validateFaultOptions(options: FaultOptions): void {
  const { delayMs, errorRate, seed, failCodes } = options;
  if (errorRate !== undefined && !(Number.isFinite(errorRate) && errorRate >= 0 && errorRate <= 1)) {
    throw new FaultOptionsError(`errorRate must be a number from 0 to 1, got ${String(errorRate)}`);
  }
  if (delayMs !== undefined) {
    const [min, max] = delayMs;
    const valid = [min, max].every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= MAX_DELAY_MS);
    if (delayMs.length !== 2 || !valid || min > max) {
      throw new FaultOptionsError(
        `delayMs must be [min, max] whole milliseconds, 0 ≤ min ≤ max ≤ ${MAX_DELAY_MS}, got ${JSON.stringify(delayMs)}`,
      );
    }
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new FaultOptionsError(`seed must be an integer, got ${String(seed)}`);
  }
  const badCode = failCodes?.find((code) => typeof code !== 'string' || !isCountryCode(code));
  if (badCode !== undefined) {
    throw new FaultOptionsError(`failCodes must be ISO 3166-1 alpha-2 codes, got ${JSON.stringify(badCode)}`);
  }
}

/** mulberry32: tiny, fast, good enough to spread faults evenly; not for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
