import { describe, expect, it } from 'vitest';
import { cell, formatNumber, formatSpread, renderResultsMarkdown, targetMet, type BenchResults } from './report.ts';

const stats = { n: 11, median: 812.4, min: 700, max: 901, p95: 901, q1: 760, q3: 850, mean: 800 };

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    date: '2025-01-02T03:04:05.000Z',
    commit: 'abc1234',
    durationSeconds: 412.6,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGiB: 24,
      os: 'Linux 6.1',
      node: 'v24.21.0',
      python: '3.11.2',
      aiohttp: '3.8.4',
      nginx: 'nginx/1.22.1',
      redis: '7.0.15',
      storage: 'ext4 disk',
    },
    settings: { runs: 11, warmups: 2 },
    targets: [
      {
        scenario: 'all countries',
        measure: 'flags/s',
        target: '≥ 3× reference',
        value: 3.4,
        comparison: '>=',
        threshold: 3,
        unit: '×',
        detail: '812 vs 239 flags/s',
      },
      {
        scenario: 'memory',
        measure: 'peak RSS',
        target: '< 200 MB',
        value: 250,
        comparison: '<=',
        threshold: 200,
        unit: 'MB',
        detail: 'worker 1',
      },
    ],
    rows: [{ scenario: 'all countries', subject: 'Flagship', metric: 'throughput', unit: 'flags/s', stats }],
    notes: ['Redis commands per flag: 2.5.'],
    ...overrides,
  };
}

describe('targetMet', () => {
  it('compares in the stated direction, inclusive', () => {
    expect(targetMet({ value: 3, comparison: '>=', threshold: 3 })).toBe(true);
    expect(targetMet({ value: 2.99, comparison: '>=', threshold: 3 })).toBe(false);
    expect(targetMet({ value: 1, comparison: '<=', threshold: 1 })).toBe(true);
    expect(targetMet({ value: 1.01, comparison: '<=', threshold: 1 })).toBe(false);
  });

  it('checks a two-sided target inclusively, and never without its upper bound', () => {
    expect(targetMet({ value: 0.8, comparison: 'within', threshold: 0.8, upper: 1.25 })).toBe(true);
    expect(targetMet({ value: 1.26, comparison: 'within', threshold: 0.8, upper: 1.25 })).toBe(false);
    expect(targetMet({ value: 0.79, comparison: 'within', threshold: 0.8, upper: 1.25 })).toBe(false);
    expect(targetMet({ value: 1, comparison: 'within', threshold: 0.8 })).toBe(false);
  });

  it('never counts a poisoned measurement (NaN, Infinity) as met', () => {
    expect(targetMet({ value: Number.NaN, comparison: '<=', threshold: 1 })).toBe(false);
    expect(targetMet({ value: Number.POSITIVE_INFINITY, comparison: '>=', threshold: 3 })).toBe(false);
  });
});

describe('formatNumber', () => {
  it('keeps three significant digits or whole numbers', () => {
    expect(formatNumber(1234.56)).toBe('1,235');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(3.14159)).toBe('3.14');
    expect(formatNumber(0.04567)).toBe('0.0457');
  });

  it('prints non-finite values as they are', () => {
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });
});

describe('formatSpread', () => {
  it('gives the median with its quartiles and the count', () => {
    expect(formatSpread({ n: 11, median: 3.104, min: 2, max: 4, p95: 4, q1: 2.8, q3: 3.4, mean: 3 })).toBe(
      '3.10× (IQR 2.80–3.40, n = 11)',
    );
    expect(formatSpread({ n: 3, median: 14.2, min: 2, max: 40, p95: 40, q1: 12, q3: 18.5, mean: 3 }, 'ms')).toBe(
      '14.2 ms (IQR 12.0–18.5, n = 3)',
    );
  });
});

describe('cell', () => {
  it('escapes pipes and flattens line breaks so a table stays a table', () => {
    expect(cell('a|b\nc')).toBe('a\\|b c');
  });
});

describe('renderResultsMarkdown', () => {
  const markdown = renderResultsMarkdown(results(), 'How it is measured.');

  it('says so when a kept row has no quartiles (results written before they were recorded)', () => {
    const { q1: _q1, q3: _q3, ...older } = stats;
    const row = { scenario: 'sustained', subject: 'Flagship', metric: 'throughput', unit: 'flags/s' };
    const text = renderResultsMarkdown(results({ rows: [{ ...row, stats: older as typeof stats }] }), 'm');
    expect(text).toMatch(/\| 812 +\| not recorded +\|/);
  });

  it('states date, commit and how many targets were met', () => {
    expect(markdown).toContain('2025-01-02T03:04:05.000Z');
    expect(markdown).toContain('`abc1234`');
    expect(markdown).toContain('1 of 2 targets met');
  });

  it('marks a missed target loudly and a met one plainly', () => {
    expect(markdown).toMatch(/\| all countries \| flags\/s \| ≥ 3× reference \| 3\.40× \| yes \|/);
    expect(markdown).toMatch(/\| memory \| peak RSS \| < 200 MB \| 250 MB \| \*\*NO\*\* \|/);
  });

  it('has medians, quartiles, min–max and run counts in the measurements table', () => {
    expect(markdown).toContain(
      '| all countries | Flagship | throughput (flags/s) | 812 | 760–850 | 700–901 | 901 | 11 |',
    );
  });

  it('lists the extra machine lines of the compose and peer scenarios', () => {
    const withMore = renderResultsMarkdown(results({ machine: { ...results().machine, more: ['Docker 20.10'] } }), '');
    expect(withMore).toContain('- Docker 20.10');
  });

  it('describes the machine, the settings, the findings and the method', () => {
    expect(markdown).toContain('Test CPU, 2 cores');
    expect(markdown).toContain('ext4 disk');
    expect(markdown).toContain('- runs: 11');
    expect(markdown).toContain('Redis commands per flag: 2.5.');
    expect(markdown).toContain('How it is measured.');
  });

  it('keeps a subject with a pipe from breaking the table', () => {
    const poisoned = renderResultsMarkdown(
      results({ rows: [{ scenario: 'x|y', subject: 'a\nb', metric: 'm', unit: 'u', stats }] }),
      '',
    );
    expect(poisoned).toContain('| x\\|y | a b |');
  });
});
