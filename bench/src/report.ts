// The benchmark's results as data (written as JSON) and as the Markdown table of
// bench/RESULTS.md. Scenarios produce rows (one measured quantity of one program) and
// target checks (a ratio against a threshold); this module only formats them.
import type { SampleStats } from './stats.ts';

export interface ResultRow {
  scenario: string;
  /** What was measured: "Flagship (1 worker)", "reference (asyncio)", ... */
  subject: string;
  metric: string;
  unit: string;
  stats: SampleStats;
  note?: string;
  /** The BENCH_ONLY scenario that measured it (results-merge.ts); absent in files written before sources were kept. */
  source?: string;
}

export interface TargetCheck {
  scenario: string;
  measure: string;
  /** Human wording of the target, e.g. "≥ 3× the reference's flags/s". */
  target: string;
  /** The measured ratio (or value) compared with the threshold. */
  value: number;
  /** `within`: threshold ≤ value ≤ upper. */
  comparison: '>=' | '<=' | 'within';
  threshold: number;
  upper?: number;
  /** Unit of `value` in the table: '×' for ratios, 'MB', ... */
  unit: string;
  detail: string;
  /** As ResultRow.source. */
  source?: string;
}

/** A finding paragraph; with the scenario that wrote it once runs are merged (results-merge.ts). */
export type Note = string | { source: string; text: string };

/** One `npm run bench` whose rows this file holds. */
export interface RunInfo {
  /** BENCH_ONLY scenarios it measured (`host` for rows of a file written before sources were kept). */
  sources: string[];
  date: string;
  commit: string;
  durationSeconds: number;
  settings: Record<string, string | number | boolean>;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  python: string;
  aiohttp: string;
  nginx: string;
  redis: string;
  storage: string;
  /** Lines about the compose stack and the peer, when those scenarios ran. */
  more?: string[];
}

export interface BenchResults {
  date: string;
  commit: string;
  durationSeconds: number;
  machine: MachineInfo;
  settings: Record<string, string | number | boolean>;
  targets: TargetCheck[];
  rows: ResultRow[];
  /** Free-form findings (profiles, Redis commands per flag), one Markdown paragraph each. */
  notes: Note[];
  /**
   * Set when a partial run (BENCH_ONLY) kept an earlier run's rows for the scenarios it did
   * not run: every run the file holds, this one first. date/commit/settings above are this run's.
   */
  runs?: RunInfo[];
}

export function noteText(note: Note): string {
  return typeof note === 'string' ? note : note.text;
}

export function targetMet(check: Pick<TargetCheck, 'value' | 'comparison' | 'threshold' | 'upper'>): boolean {
  if (!Number.isFinite(check.value)) return false;
  if (check.comparison === 'within') {
    return check.upper !== undefined && check.value >= check.threshold && check.value <= check.upper;
  }
  return check.comparison === '>=' ? check.value >= check.threshold : check.value <= check.threshold;
}

/** `3.10× (IQR 2.80–3.40, n = 11)`: a median with its interquartile range. */
export function formatSpread(stats: SampleStats, unit = '×'): string {
  const u = unit === '×' ? '×' : ` ${unit}`;
  return `${formatNumber(stats.median)}${u} (IQR ${formatNumber(stats.q1)}–${formatNumber(stats.q3)}, n = ${stats.n})`;
}

/** Three significant digits, without exponent notation for everyday magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** Cell text safe inside a Markdown table: no pipes, no line breaks. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function targetsTable(targets: readonly TargetCheck[]): string {
  return table(
    ['scenario', 'measure', 'target', 'measured', 'met', 'detail'],
    targets.map((t) => [
      t.scenario,
      t.measure,
      t.target,
      `${formatNumber(t.value)}${t.unit === '×' ? '×' : ` ${t.unit}`}`,
      targetMet(t) ? 'yes' : '**NO**',
      t.detail,
    ]),
  );
}

/** q1–q3; rows kept from results written before quartiles were recorded have none. */
function quartiles(stats: SampleStats): string {
  const { q1, q3 } = stats as Partial<SampleStats>;
  if (q1 === undefined || q3 === undefined) return 'not recorded';
  return `${formatNumber(q1)}–${formatNumber(q3)}`;
}

function rowsTable(rows: readonly ResultRow[]): string {
  return table(
    ['scenario', 'program', 'metric', 'median', 'q1–q3', 'min–max', 'p95', 'runs', 'note'],
    rows.map((r) => [
      r.scenario,
      r.subject,
      `${r.metric} (${r.unit})`,
      formatNumber(r.stats.median),
      quartiles(r.stats),
      `${formatNumber(r.stats.min)}–${formatNumber(r.stats.max)}`,
      formatNumber(r.stats.p95),
      String(r.stats.n),
      r.note ?? '',
    ]),
  );
}

function machineList(machine: MachineInfo): string {
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGiB} GiB`,
    `- OS: ${machine.os}`,
    `- Node ${machine.node}; Python ${machine.python} with aiohttp ${machine.aiohttp}; ${machine.nginx}; Redis ${machine.redis}`,
    `- Storage of both programs' downloads folders: ${machine.storage}`,
    ...(machine.more ?? []).map((line) => `- ${line}`),
  ].join('\n');
}

function runsList(runs: readonly RunInfo[]): string {
  return [
    `The rows come from ${runs.length} runs (a run with BENCH_ONLY replaces only its own scenarios' rows):`,
    '',
    ...runs.map(
      (run) =>
        `- ${run.sources.join(', ')}: ${run.date} at commit \`${run.commit}\`, in ${Math.round(run.durationSeconds)} s`,
    ),
  ].join('\n');
}

function settingsList(settings: BenchResults['settings']): string {
  return Object.entries(settings)
    .map(([key, value]) => `- ${key}: ${String(value)}`)
    .join('\n');
}

/** The whole of RESULTS.md. `method` is the harness's own description of how it measures. */
export function renderResultsMarkdown(results: BenchResults, method: string): string {
  const met = results.targets.filter(targetMet).length;
  const earlier = (results.runs ?? []).slice(1);
  return [
    '# Flagship benchmark results',
    '',
    `Written by \`npm run bench\` on ${results.date} at commit \`${results.commit}\`, in ` +
      `${Math.round(results.durationSeconds)} s. ${met} of ${results.targets.length} targets met.`,
    '',
    ...(earlier.length > 0 ? [runsList(results.runs ?? []), ''] : []),
    '## Targets',
    '',
    targetsTable(results.targets),
    '',
    '## Measurements',
    '',
    rowsTable(results.rows),
    '',
    ...(results.notes.length > 0
      ? ['## Findings', '', ...results.notes.flatMap((note) => [noteText(note), '']), '']
      : []),
    '## Machine',
    '',
    machineList(results.machine),
    '',
    '## Settings',
    '',
    settingsList(results.settings),
    '',
    ...earlier.flatMap((run) => [
      `Settings of the earlier run (${run.sources.join(', ')}, commit \`${run.commit}\`):`,
      '',
      settingsList(run.settings),
      '',
    ]),
    '## Method',
    '',
    method.trim(),
    '',
    'Profiles and the analysis of missed targets: [README.md § Findings](README.md#findings).',
    '',
  ].join('\n');
}
