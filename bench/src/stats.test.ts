import { describe as suite, expect, it } from 'vitest';
import { describe, median, pairedRatios, percentile, quartiles } from './stats.ts';

suite('median', () => {
  it('takes the middle sample of an odd count', () => {
    expect(median([1, 2, 10])).toBe(2);
  });

  it('averages the two middle samples of an even count', () => {
    expect(median([1, 2, 4, 10])).toBe(3);
  });

  it('refuses no samples', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

suite('percentile (nearest rank)', () => {
  const eleven = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

  it('gives the largest sample as p95 of 11 samples', () => {
    expect(percentile(eleven, 95)).toBe(11);
  });

  it('gives an observed sample, never an interpolated one', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(percentile(twenty, 95)).toBe(190);
    expect(percentile(twenty, 50)).toBe(100);
  });

  it('refuses a percentile outside (0, 100]', () => {
    expect(() => percentile(eleven, 0)).toThrow(RangeError);
    expect(() => percentile(eleven, 101)).toThrow(RangeError);
    expect(() => percentile(eleven, Number.NaN)).toThrow(RangeError);
  });
});

suite('describe', () => {
  it('summarizes unsorted samples', () => {
    expect(describe([5, 1, 3])).toEqual({ n: 3, median: 3, min: 1, max: 5, p95: 5, q1: 1, q3: 5, mean: 3 });
  });

  it('gives observed quartiles: the 3rd and 9th of 11 samples', () => {
    const stats = describe([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect([stats.q1, stats.median, stats.q3]).toEqual([3, 6, 9]);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    describe(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('refuses poisoned samples (NaN, Infinity) and an empty list', () => {
    expect(() => describe([1, Number.NaN])).toThrow(/finite/);
    expect(() => describe([1, Number.POSITIVE_INFINITY])).toThrow(/finite/);
    expect(() => describe([])).toThrow(RangeError);
  });
});

suite('pairedRatios', () => {
  it('divides run by run', () => {
    expect(pairedRatios([10, 9], [2, 3])).toEqual([5, 3]);
  });

  it('refuses samples that are not paired', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow(/length/);
  });
});

suite('quartiles (nearest rank)', () => {
  it('gives observed first and third quartiles and their distance, whatever the order', () => {
    expect(quartiles([9, 1, 5, 3, 7, 2, 8, 4, 6, 10, 11])).toEqual({ q1: 3, q3: 9, iqr: 6 });
  });

  it('refuses no samples', () => {
    expect(() => quartiles([])).toThrow(RangeError);
  });
});
