// Submit a download to the Flagship API and follow it to the end over its event stream,
// printing progress: a bar redrawn in place on a terminal, one line per flag otherwise
// (the country names, as the original program printed them), then the report line.
// Everything read from the API is checked against the public API's schemas
// (@flagship/common), compiled on first use, so the command starts as fast as before.
import {
  ContractError,
  HttpContracts,
  reportLine,
  type DownloadAccepted,
  type DownloadEvent,
  type DownloadProgress,
  type DownloadRequest,
  type DownloadStatus,
} from '@flagship/common';
import { apiAuthHeaders, apiKeyHint } from '../api-auth.ts';
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

/** What the renderers draw: a status or a progress event, both carry these. */
type Progress = Pick<DownloadProgress, 'done' | 'total' | 'outcomes'>;

export async function runDownloadClient(options: DownloadClientOptions, io: CliIO): Promise<number> {
  const accepted = await submit(options, io);
  if (accepted === undefined) return ExitCodes.failed;
  if (!options.follow) {
    io.stdout.write(`${accepted.id}\n`);
    return ExitCodes.ok;
  }
  const render = io.stdout.isTTY === true ? barRenderer(io) : lineRenderer(io);
  let final: DownloadStatus | undefined;
  try {
    await readSse(new URL(accepted.links.events, options.api).href, isFinalEvent, {
      headers: apiAuthHeaders(),
      onEvent: (frame: SseEvent) => {
        const event = parseDownloadEvent(frame);
        if (event.event === 'completed' || event.event === 'failed') final = event.data;
        else render(event.data);
      },
    });
  } catch (error) {
    const what = error instanceof ContractError || error instanceof SyntaxError ? 'did not understand' : 'lost';
    io.stderr.write(`flagship download: ${what} the event stream of ${accepted.id}: ${(error as Error).message}\n`);
    return ExitCodes.failed;
  }
  if (final === undefined) {
    io.stderr.write('flagship download: the event stream ended before the download did\n');
    return ExitCodes.failed;
  }
  if (final.state === 'failed') {
    io.stderr.write(`flagship download: the download failed: ${final.failedReason ?? 'no reason given'}\n`);
    return ExitCodes.failed;
  }
  return printSummary(final, render, io);
}

function isFinalEvent(frame: SseEvent): boolean {
  return frame.event === 'completed' || frame.event === 'failed';
}

/** An SSE frame as the API's DownloadEvent; throws ContractError when it is not one. */
function parseDownloadEvent(frame: SseEvent): DownloadEvent {
  return HttpContracts.downloadEvent.parse({ event: frame.event, data: JSON.parse(frame.data) as unknown });
}

/** The report line and each failed flag's reason; exit 1 when a flag failed. */
function printSummary(status: DownloadStatus, render: (progress: Progress) => void, io: CliIO): number {
  render({ done: status.total, total: status.total, outcomes: status.outcomes });
  if (io.stdout.isTTY === true) io.stdout.write('\n');
  io.stdout.write(`\n${status.message ?? reportLine(status, status.elapsedSeconds)}\n`);
  for (const outcome of status.outcomes.filter((o) => o.status === 'ERROR')) {
    io.stderr.write(`  ${outcome.code}: ${outcome.reason ?? 'failed'}\n`);
  }
  return status.failed > 0 ? ExitCodes.failed : ExitCodes.ok;
}

async function submit(options: DownloadClientOptions, io: CliIO): Promise<DownloadAccepted | undefined> {
  const body: DownloadRequest = options.all ? { all: true } : options.codes.length > 0 ? { codes: options.codes } : {};
  let response: Response;
  try {
    response = await fetch(new URL('/v1/downloads', options.api), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...apiAuthHeaders() },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    io.stderr.write(`flagship download: cannot reach the API at ${options.api}: ${reason} (is it running?)\n`);
    return undefined;
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (response.status !== 202) {
    const detail = HttpContracts.problem.check(json) ? json.detail : `HTTP ${response.status}`;
    io.stderr.write(`flagship download: the API refused the download: ${detail}${apiKeyHint(response.status)}\n`);
    return undefined;
  }
  try {
    return HttpContracts.downloadAccepted.parse(json);
  } catch (error) {
    io.stderr.write(`flagship download: did not understand the API's answer: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** Non-terminal output: each flag's country (or why it is missing) once, as it is decided. */
function lineRenderer(io: CliIO): (progress: Progress) => void {
  const printed = new Set<string>();
  return (progress) => {
    for (const outcome of progress.outcomes) {
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
