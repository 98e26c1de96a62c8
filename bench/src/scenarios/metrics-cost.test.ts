import { describe, expect, it } from 'vitest';
import { parseProcStatCpuSeconds, summarizeMetricsCost } from './metrics-cost.ts';

describe('summarizeMetricsCost', () => {
  it('pairs the arms round by round and reports the median ratio as the cost', () => {
    const summary = summarizeMetricsCost([
      { order: ['on', 'off'], flagsPerSecond: { on: 990, off: 1000 }, cpuSeconds: { on: 0.11, off: 0.1 } },
      { order: ['off', 'on'], flagsPerSecond: { on: 1500, off: 1500 }, cpuSeconds: { on: 0.1, off: 0.1 } },
      { order: ['on', 'off'], flagsPerSecond: { on: 950, off: 1000 }, cpuSeconds: { on: 0.1, off: 0.1 } },
    ]);
    expect(summary.pairs).toBe(3);
    expect(summary.ratio.median).toBeCloseTo(0.99);
    expect(summary.ratio.min).toBeCloseTo(0.95);
    expect(summary.ratioQuartiles[0]).toBeCloseTo(0.95);
    expect(summary.ratioQuartiles[1]).toBeCloseTo(1);
    expect(summary.costPercent).toBeCloseTo(1);
    expect(summary.on.median).toBe(990);
    expect(summary.cpuMsPerDownload.on).toBeCloseTo(103.33);
    expect(summary.cpuCostPercent).toBeCloseTo(3.33);
  });

  it('reads user and system CPU from /proc/<pid>/stat, whatever the command name', () => {
    const stat = '4242 (node main.ts) S 1 4242 4242 0 -1 4194560 5000 0 0 0 150 25 0 0 20 0 11 0 123 456 789';
    expect(parseProcStatCpuSeconds(stat)).toBeCloseTo(1.75);
  });
});
