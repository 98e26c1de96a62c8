import { describe, expect, it } from 'vitest';
import { FaultOptionsError, createFaultPlan, seededRandom, type FaultOptions } from './faults.ts';

const statuses = (options: FaultOptions, n: number, code = 'CN') => {
  const plan = createFaultPlan(options);
  return Array.from({ length: n }, () => plan.decide(code).status);
};

describe('createFaultPlan', () => {
  it('is inactive and answers no fault by default', () => {
    const plan = createFaultPlan();
    expect(plan.active).toBe(false);
    expect(plan.decide('CN')).toEqual({ delayMs: 0, status: 0 });
  });

  it('answers 503 for about errorRate of the requests', () => {
    const answers = statuses({ errorRate: 0.3, seed: 7 }, 10_000);
    const failed = answers.filter((status) => status === 503).length;
    expect(failed).toBeGreaterThan(2_800);
    expect(failed).toBeLessThan(3_200);
    expect(answers.every((status) => status === 0 || status === 503)).toBe(true);
  });

  it('never fails at rate 0 and always at rate 1', () => {
    expect(statuses({ errorRate: 0, seed: 1 }, 500).every((status) => status === 0)).toBe(true);
    expect(statuses({ errorRate: 1, seed: 1 }, 500).every((status) => status === 503)).toBe(true);
  });

  it('repeats the same faults for the same seed and differs for another', () => {
    const a = statuses({ errorRate: 0.5, seed: 42 }, 200);
    expect(statuses({ errorRate: 0.5, seed: 42 }, 200)).toEqual(a);
    expect(statuses({ errorRate: 0.5, seed: 43 }, 200)).not.toEqual(a);
  });

  it('draws delays as whole ms within [min, max], reaching both ends', () => {
    const plan = createFaultPlan({ delayMs: [5, 8], seed: 3 });
    const delays = Array.from({ length: 2_000 }, () => plan.decide('CN').delayMs);
    expect(new Set(delays)).toEqual(new Set([5, 6, 7, 8]));
    expect(plan.active).toBe(true);
    expect(createFaultPlan({ delayMs: [20, 20] }).decide('US').delayMs).toBe(20);
  });

  it('always fails failCodes with 500, in any case, and leaves other codes alone', () => {
    const plan = createFaultPlan({ failCodes: ['cn'] });
    expect(plan.decide('CN').status).toBe(500);
    expect(plan.decide('cn').status).toBe(500);
    expect(plan.decide('US').status).toBe(0);
  });

  it.each<[string, FaultOptions]>([
    ['errorRate above 1', { errorRate: 1.01 }],
    ['negative errorRate', { errorRate: -0.1 }],
    ['NaN errorRate', { errorRate: Number.NaN }],
    ['infinite errorRate', { errorRate: Number.POSITIVE_INFINITY }],
    ['string errorRate', { errorRate: '0.5' as unknown as number }],
    ['min above max', { delayMs: [10, 5] }],
    ['negative delay', { delayMs: [-1, 5] }],
    ['fractional delay', { delayMs: [1.5, 5] }],
    ['delay too long', { delayMs: [0, 60_001] }],
    ['delay of three numbers', { delayMs: [1, 2, 3] as unknown as [number, number] }],
    ['fractional seed', { seed: 1.5 }],
    ['unknown fail code', { failCodes: ['ZZ'] }],
    ['path in fail codes', { failCodes: ['../etc'] }],
  ])('rejects %s with a clear error', (_, options) => {
    expect(() => createFaultPlan(options)).toThrow(FaultOptionsError);
  });

  it('names the option in the error', () => {
    expect(() => createFaultPlan({ errorRate: 2 })).toThrow(/errorRate must be a number from 0 to 1, got 2/);
  });
});

describe('seededRandom', () => {
  it('gives numbers in [0, 1), the same sequence for the same seed', () => {
    const a = seededRandom(9);
    const b = seededRandom(9);
    const values = Array.from({ length: 1_000 }, () => a());
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(Array.from({ length: 1_000 }, () => b())).toEqual(values);
  });
});
