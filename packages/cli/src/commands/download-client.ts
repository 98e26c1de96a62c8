// Submit a download to the Flagship API and follow it to the end over its event stream,
// printing progress: a bar redrawn in place on a terminal, one line per flag otherwise
// (the country names, as the original program printed them), then the report line.
import type { DownloadSummary, FlagOutcome } from '@flagship/common';
import { ExitCodes, type CliIO } from '../cli-io.ts';
import { readSse, type SseEvent } from '../sse-reader.ts';

export interface DownloadClientOptions {
  /** API base URL, e.g. http://localhost:3000. */
  api: string;
  /** Codes to download; empty: the API's default (the reference's 20). */
  codes: string[];
  all: boolean;
  /** Follow to the end (default) or print the id and return. */
  follow: boolean;
}

interface Progress {
  done: number;
  total: number;
  outcomes?: FlagOutcome[];
}

export async function runDownloadClient(options: DownloadClientOptions, io: CliIO): Promise<number> {
  const accepted = await submit(options, io);
  if (accepted === undefined) return ExitCodes.failed;
  if (!options.follow) {
    io.stdout.write(`${accepted.id}\n`);
    return ExitCodes.ok;
  }
  const render = io.stdout.isTTY === true ? barRenderer(io) : lineRenderer(io);
  let summary: DownloadSummary | undefined;
  let failure: string | undefined;
  try {
    await readSse(
      new URL(accepted.links.events, options.api).href,
      (event) => event.event === 'completed' || event.event === 'failed',
      {
        onEvent: (event: SseEvent) => {
          const data = JSON.parse(event.data) as Progress & Partial<DownloadSummary> & { failedReason?: string };
          if (event.event === 'completed') summary = data as DownloadSummary;
          else if (event.event === 'failed') failure = data.failedReason ?? 'the download failed';
          else render(data);
        },
      },
    );
  } catch (error) {
    io.stderr.write(`flagship download: lost the event stream of ${accepted.id}: ${(error as Error).message}\n`);
    return ExitCodes.failed;
  }
  if (summary === undefined) {
    io.stderr.write(`flagship download: ${failure ?? 'the event stream ended before the download did'}\n`);
    return ExitCodes.failed;
  }
  render({ done: summary.total, total: summary.total, outcomes: summary.outcomes });
  if (io.stdout.isTTY === true) io.stdout.write('\n');
  io.stdout.write(`\n${summary.message}\n`);
  for (const outcome of summary.outcomes.filter((o) => o.status === 'ERROR')) {
    io.stderr.write(`  ${outcome.code}: ${outcome.reason ?? 'failed'}\n`);
  }
  return summary.failed > 0 ? ExitCodes.failed : ExitCodes.ok;
}

async function submit(
  options: DownloadClientOptions,
  io: CliIO,
): Promise<{ id: string; links: { events: string } } | undefined> {
  const body = options.all ? { all: true } : options.codes.length > 0 ? { codes: options.codes } : {};
  let response: Response;
  try {
    response = await fetch(new URL('/v1/downloads', options.api), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    io.stderr.write(`flagship download: cannot reach the API at ${options.api}: ${reason} (is it running?)\n`);
    return undefined;
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status !== 202) {
    const detail = typeof json.detail === 'string' ? json.detail : `HTTP ${response.status}`;
    io.stderr.write(`flagship download: the API refused the download: ${detail}\n`);
    return undefined;
  }
  return json as unknown as { id: string; links: { events: string } };
}

/** Non-terminal output: each flag's country (or why it is missing) once, as it is decided. */
function lineRenderer(io: CliIO): (progress: Progress) => void {
  const printed = new Set<string>();
  return (progress) => {
    for (const outcome of progress.outcomes ?? []) {
      if (printed.has(outcome.code)) continue;
      printed.add(outcome.code);
      const text = outcome.status === 'OK' ? (outcome.country ?? outcome.code) : `${outcome.code}: ${outcome.status}`;
      io.stdout.write(`${text}\n`);
    }
  };
}

/** Terminal output: one line redrawn in place, `[#####-----]  12/20`. */
function barRenderer(io: CliIO): (progress: Progress) => void {
  const width = 30;
  return ({ done, total }) => {
    const filled = total === 0 ? width : Math.round((done / total) * width);
    io.stdout.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total}`,
    );
  };
}
