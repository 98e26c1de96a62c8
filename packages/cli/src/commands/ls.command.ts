// `flagship ls`: the downloads, newest first, one page (or every page) as a table.
import { DownloadState, MAX_LIST_LIMIT, type DownloadList, type DownloadListItem } from '@flagship/common';
import { ExitCodes } from '../cli-io.ts';
import { defineApiCommand, printJson } from '../command-line.ts';
import { UsageError } from '../usage-error.ts';
import { formatTime } from './download-report.ts';
import type { FlagshipApi } from '../api-client.ts';

const STATES = DownloadState.enum as readonly string[];

export const lsCommand = defineApiCommand({
  name: 'ls',
  summary: 'list the downloads, newest first',
  synopsis: '[options]',
  description: `The downloads, newest first: id, state, done/total, saved, not found, failed, created
and finished (UTC). One page at a time; when there are more, the command that lists
the next page is printed on stderr.`,
  options: {
    state: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    'all-pages': { type: 'boolean' },
  },
  optionsHelp: [
    ['--state <state>', `only downloads in this state: ${STATES.join(', ')}`],
    ['--limit <n>', `downloads per page, 1 to ${MAX_LIST_LIMIT} (default: the API's, 20)`],
    ['--cursor <cursor>', 'the page after the one whose nextCursor this is'],
    ['--all-pages', 'every page, one after the other'],
  ],
  json: `GET /v1/downloads's document, {"items":[...],"nextCursor":...}; with\n--all-pages, one such document of every item, nextCursor null`,
  positionals: false,
  examples: ['flagship ls', 'flagship ls --state failed --limit 5', 'flagship ls --all-pages --json'],
  async run({ values, target, io }) {
    const query: ListQuery = {};
    if (values.state !== undefined) query.state = parseState(values.state);
    if (values.limit !== undefined) query.limit = parseLimit(values.limit);
    if (values.cursor !== undefined) query.cursor = values.cursor;
    const { api, apiArgument } = target;
    const list =
      values['all-pages'] === true ? await allPages(api, query, io.signal) : await api.listDownloads(query, io.signal);
    if (values.json === true) {
      printJson(io, list);
      return ExitCodes.ok;
    }
    io.stdout.write(
      list.items.length === 0 ? `no downloads${query.state ? ` ${query.state}` : ''}\n` : table(list.items),
    );
    if (list.nextCursor !== null) {
      const next = { ...query, cursor: list.nextCursor };
      const flags = Object.entries(next)
        .map(([name, value]) => ` --${name} ${String(value)}`)
        .join('');
      io.stderr.write(`more: flagship ls${flags}${apiArgument}\n`);
    }
    return ExitCodes.ok;
  },
});

interface ListQuery {
  state?: DownloadState;
  limit?: number;
  cursor?: string;
}

function parseState(text: string): DownloadState {
  if (!STATES.includes(text)) throw new UsageError(`--state must be one of ${STATES.join(', ')}, got "${text}"`);
  return text as DownloadState;
}

function parseLimit(text: string): number {
  const limit = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIST_LIMIT))
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got "${text}"`);
  return limit;
}

/** Every page from `query.cursor` on, as one list; stops should a cursor come back again. */
async function allPages(api: FlagshipApi, query: ListQuery, signal: AbortSignal | undefined): Promise<DownloadList> {
  const items: DownloadListItem[] = [];
  const seen = new Set<string>();
  let cursor = query.cursor;
  for (;;) {
    const page = await api.listDownloads({ ...query, ...(cursor === undefined ? {} : { cursor }) }, signal);
    items.push(...page.items);
    if (page.nextCursor === null || seen.has(page.nextCursor)) return { items, nextCursor: null };
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

const COLUMNS: readonly { title: string; right?: boolean; value: (item: DownloadListItem) => string }[] = [
  { title: 'ID', value: (item) => item.id },
  { title: 'STATE', value: (item) => item.state },
  { title: 'DONE/TOTAL', right: true, value: (item) => `${item.done}/${item.total}` },
  { title: 'SAVED', right: true, value: (item) => `${item.saved}` },
  { title: 'NOT FOUND', right: true, value: (item) => `${item.notFound}` },
  { title: 'FAILED', right: true, value: (item) => `${item.failed}` },
  { title: 'CREATED', value: (item) => formatTime(item.createdAt) },
  { title: 'FINISHED', value: (item) => formatTime(item.finishedAt) },
];

function table(items: readonly DownloadListItem[]): string {
  const rows = [COLUMNS.map((c) => c.title), ...items.map((item) => COLUMNS.map((c) => c.value(item)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (COLUMNS[i]?.right === true ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${rows.map(line).join('\n')}\n`;
}
