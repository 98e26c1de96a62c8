import { describe, expect, it } from 'vitest';
import { renderResultsMarkdown, type BenchResults, type ResultRow } from './report.ts';
import { LEGACY_SOURCE, mergeWithEarlier, replacedBy } from './results-merge.ts';

const stats = { n: 3, median: 2, min: 1, max: 3, p95: 3, q1: 1, q3: 3, mean: 2 };
const row = (scenario: string, source?: string): ResultRow => ({
  scenario,
  subject: 'Flagship',
  metric: 'throughput',
  unit: 'flags/s',
  stats,
  ...(source === undefined ? {} : { source }),
});

function results(overrides: Partial<BenchResults>): BenchResults {
  return {
    date: '2026-01-01T00:00:00.000Z',
    commit: 'old1234',
    durationSeconds: 400,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGiB: 24,
      os: 'Linux',
      node: 'v24',
      python: '3.11',
      aiohttp: '3.8',
      nginx: 'nginx/1.22',
      redis: '7.0',
      storage: 'ext4',
    },
    settings: { runs: 11 },
    targets: [],
    rows: [],
    notes: [],
    ...overrides,
  };
}

// A file written before rows carried their source: the host-process scenarios only.
const legacy = results({ rows: [row('all countries'), row('sustained')], notes: ['Redis commands per flag: 2.8.'] });

describe('replacedBy', () => {
  it('replaces rows without a source only when a host-process scenario runs', () => {
    expect(replacedBy(new Set(['compose', 'celery']), LEGACY_SOURCE)).toBe(false);
    expect(replacedBy(new Set(['intake']), LEGACY_SOURCE)).toBe(true);
    expect(replacedBy(new Set(['compose']), 'compose')).toBe(true);
    expect(replacedBy(new Set(['compose']), 'levers')).toBe(false);
  });
});

describe('mergeWithEarlier', () => {
  const composeRun = results({
    date: '2026-02-02T00:00:00.000Z',
    commit: 'new5678',
    durationSeconds: 600,
    settings: { runs: 7 },
    rows: [row('compose: all countries', 'compose')],
    notes: [{ source: 'compose', text: 'compose: idle stack.' }],
  });

  it('keeps what the partial run did not measure, and says which run measured what', () => {
    const merged = mergeWithEarlier(composeRun, legacy, new Set(['compose', 'celery']));
    expect(merged.rows.map((r) => r.scenario)).toEqual(['all countries', 'sustained', 'compose: all countries']);
    expect(merged.notes).toEqual([
      'Redis commands per flag: 2.8.',
      { source: 'compose', text: 'compose: idle stack.' },
    ]);
    expect(merged.commit).toBe('new5678');
    expect(merged.runs?.map((run) => [run.commit, run.sources])).toEqual([
      ['new5678', ['compose', 'celery']],
      ['old1234', [LEGACY_SOURCE]],
    ]);
    const markdown = renderResultsMarkdown(merged, 'method');
    expect(markdown).toContain('The rows come from 2 runs');
    expect(markdown).toContain('Settings of the earlier run (host, commit `old1234`)');
  });

  it('replaces its own earlier rows and drops runs left with none', () => {
    const first = mergeWithEarlier(composeRun, legacy, new Set(['compose', 'celery']));
    const again = mergeWithEarlier({ ...composeRun, commit: 'newer99' }, first, new Set(['compose', 'celery']));
    expect(again.rows.map((r) => r.scenario)).toEqual(['all countries', 'sustained', 'compose: all countries']);
    expect(again.runs?.map((run) => run.commit)).toEqual(['newer99', 'old1234']);
    const everything = mergeWithEarlier(composeRun, again, new Set(['all', 'sustained', 'compose', 'celery']));
    expect(everything.rows.map((r) => r.scenario)).toEqual(['compose: all countries']);
    expect(everything.runs?.map((run) => run.commit)).toEqual(['new5678']);
    expect(renderResultsMarkdown(everything, 'method')).not.toContain('The rows come from');
  });

  it('is this run alone when there are no earlier results', () => {
    expect(mergeWithEarlier(composeRun, undefined, new Set(['compose']))).toBe(composeRun);
  });
});
