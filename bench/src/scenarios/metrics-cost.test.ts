import { describe, expect, it } from 'vitest';
import { summarizeMetricsCost } from './metrics-cost.ts';

describe('summarizeMetricsCost', () => {
  it('pairs the arms round by round and reports the median ratio as the cost', () => {
    const summary = summarizeMetricsCost([
      { order: ['on', 'off'], flagsPerSecond: { on: 990, off: 1000 } },
      { order: ['off', 'on'], flagsPerSecond: { on: 1500, off: 1500 } },
      { order: ['on', 'off'], flagsPerSecond: { on: 950, off: 1000 } },
    ]);
    expect(summary.rounds).toBe(3);
    expect(summary.ratio.median).toBeCloseTo(0.99);
    expect(summary.ratio.min).toBeCloseTo(0.95);
    expect(summary.costPercent).toBeCloseTo(1);
    expect(summary.on.median).toBe(990);
  });
});
