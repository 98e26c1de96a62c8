// How a download reads as text: its counts, its failed flags with their reasons, the
// `flagship status` report, and the exit code a download's state and counts make.
import { reportLine, type DownloadListItem, type DownloadStatus } from '@flagship/common';
import { ExitCodes } from '../cli-io.ts';

type Counts = Pick<DownloadListItem, 'state' | 'total' | 'done' | 'saved' | 'notFound' | 'failed'>;

/** 1 when the download failed, was cancelled or has flags that failed; else 0 (running ones too). */
export function downloadExitCode(download: Pick<Counts, 'state' | 'failed'>): number {
  const bad = download.state === 'failed' || download.state === 'cancelled' || download.failed > 0;
  return bad ? ExitCodes.failed : ExitCodes.ok;
}

/** `12/20 done: 10 saved, 1 not found, 1 failed` */
export function countsLine(download: Counts): string {
  return `${download.done}/${download.total} done: ${download.saved} saved, ${download.notFound} not found, ${download.failed} failed`;
}

/** `2026-01-01 12:00:00Z` from the API's date-time; `-` when there is none. */
export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** One line per flag that failed: `  IN: gave up after 3 attempts: HTTP 503`. */
export function failureLines(status: Pick<DownloadStatus, 'outcomes'>): string[] {
  return status.outcomes.filter((o) => o.status === 'ERROR').map((o) => `  ${o.code}: ${o.reason ?? 'failed'}`);
}

/** The report line of a finished download, as the original program printed it. */
export function finalReport(status: DownloadStatus): string {
  return status.message ?? reportLine(status, status.elapsedSeconds);
}

/** `flagship status`: the download's fields, then its failed and missing flags and its files. */
export function statusReport(status: DownloadStatus): string {
  const fields: [string, string | undefined][] = [
    ['id', status.id],
    ['state', status.state],
    ['flags', countsLine(status)],
    ['created', formatTime(status.createdAt)],
    ['finished', status.finishedAt === undefined ? undefined : formatTime(status.finishedAt)],
    ['elapsed', `${status.elapsedSeconds.toFixed(2)}s`],
    ['retry of', status.retryOf],
    ['message', status.message],
    ['reason', status.failedReason],
  ];
  const lines = fields.flatMap(([name, value]) => (value === undefined ? [] : [`${name.padEnd(9)} ${value}`]));
  const notFound = status.outcomes.filter((o) => o.status === 'NOT_FOUND').map((o) => `  ${o.code}`);
  const failures = failureLines(status);
  if (failures.length > 0) lines.push(`failed flags (${failures.length}):`, ...failures);
  if (notFound.length > 0) lines.push(`not found (${notFound.length}):`, ...notFound);
  if (status.files.length > 0) lines.push(`files (${status.files.length}):`, ...status.files.map((f) => `  ${f}`));
  return `${lines.join('\n')}\n`;
}
