// Following a download to its end over its event stream, for `flagship download`,
// `retry` and `watch`. Text: a bar redrawn in place on a terminal, one line per flag
// otherwise (the country names, as the original program printed them), then the report
// line; `--json`: the final status, one document; `--ndjson`: each event as a line.
// A stream lost midway is reopened with Last-Event-ID. Ctrl-C (io.signal) stops
// following and leaves the download running, printing how to cancel it, or cancels it
// with --cancel-on-exit; either way exit 130.
import { setTimeout as delay } from 'node:timers/promises';
import type { ParseArgsOptionsConfig } from 'node:util';
import {
  ContractError,
  HttpContracts,
  type DownloadAccepted,
  type DownloadEvent,
  type DownloadProgress,
} from '@flagship/common';
import { ApiError, type FlagshipApi } from '../api-client.ts';
import { ExitCodes, type CliIO } from '../cli-io.ts';
import { printJson, type ApiTarget, type OptionHelp } from '../command-line.ts';
import { UsageError } from '../usage-error.ts';
import { readEventStream, type SseEvent } from '../sse-reader.ts';
import { countsLine, downloadExitCode, failureLines, finalReport } from './download-report.ts';

export type FollowOutput = 'text' | 'json' | 'ndjson';

export interface FollowOptions {
  /** The command, for messages: `flagship <command>: ...`. */
  command: string;
  output: FollowOutput;
  /** On Ctrl-C: cancel the download (DELETE) instead of leaving it running. */
  cancelOnExit: boolean;
  /** ` --api <url>`, appended to the commands we print. */
  apiArgument: string;
}

type FinalEvent = Extract<DownloadEvent, { event: 'completed' | 'failed' | 'cancelled' }>;

/** The waits before reopening a lost stream; lost once more, we give up. Reset by news. */
const RECONNECT_DELAYS_MS = [0, 250, 1_000];
/** How long --cancel-on-exit waits for the API to take the cancel. */
const CANCEL_TIMEOUT_MS = 10_000;

/** The options of the commands that follow a download (download, retry, watch), and their help. */
export const FOLLOW_OPTIONS = {
  ndjson: { type: 'boolean' },
  'cancel-on-exit': { type: 'boolean' },
} as const;
export const FOLLOW_OPTIONS_HELP: readonly OptionHelp[] = [
  ['--ndjson', 'print each event as a line of JSON, {"event","id","data"}, the final one last'],
  ['--cancel-on-exit', 'on Ctrl-C, cancel the download instead of leaving it running'],
];

/** The options of the commands that make a download (download, retry), and their help. */
const SUBMIT_OPTIONS = {
  'no-follow': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
} as const;
const SUBMIT_OPTIONS_HELP: readonly OptionHelp[] = [
  ['--no-follow', "print the download's id (--json: the API's answer) and return at once"],
  [
    '--idempotency-key <key>',
    "the POST's Idempotency-Key (default: a new one): the same key and request\nagain give the download the first one made",
  ],
];

/** What --json prints for the commands that follow a download. */
export const FOLLOW_JSON_HELP = "the final status (GET /v1/downloads/<id>'s document) once it ends";

/**
 * The option table of a command that makes a download and follows it (download, retry):
 * its own options, then the submit and the follow options; the help lists them in that
 * order too, so that both commands' usage texts read alike. For defineApiCommand's spec.
 */
export function submitAndFollowOptions<const O extends ParseArgsOptionsConfig>(own: O, ownHelp: readonly OptionHelp[]) {
  return {
    options: { ...FOLLOW_OPTIONS, ...SUBMIT_OPTIONS, ...own },
    optionsHelp: [...ownHelp, ...SUBMIT_OPTIONS_HELP, ...FOLLOW_OPTIONS_HELP],
    json: FOLLOW_JSON_HELP,
  };
}

interface FollowValues {
  json?: boolean | undefined;
  ndjson?: boolean | undefined;
  'cancel-on-exit'?: boolean | undefined;
  'no-follow'?: boolean | undefined;
}

/** The follow options the command line asks for: --json and --ndjson exclude each other. */
export function followOptions(
  command: string,
  values: FollowValues,
  target: ApiTarget,
): FollowOptions & { follow: boolean } {
  if (values.json === true && values.ndjson === true) throw new UsageError('give either --json or --ndjson');
  return {
    command,
    output: values.ndjson === true ? 'ndjson' : values.json === true ? 'json' : 'text',
    cancelOnExit: values['cancel-on-exit'] === true,
    apiArgument: target.apiArgument,
    follow: values['no-follow'] !== true,
  };
}

/** A download just accepted: followed, or with `follow` false its id (or the answer, with --json) printed. */
export async function followAccepted(
  api: FlagshipApi,
  accepted: DownloadAccepted,
  options: FollowOptions & { follow: boolean },
  io: CliIO,
): Promise<number> {
  if (options.follow) return followDownload(api, accepted, options, io);
  if (options.output === 'text') io.stdout.write(`${accepted.id}\n`);
  else printJson(io, accepted);
  return ExitCodes.ok;
}

/** Follows a download to its last event and reports it; resolves with the exit code. */
export async function followDownload(
  api: FlagshipApi,
  download: Pick<DownloadAccepted, 'id' | 'links'>,
  options: FollowOptions,
  io: CliIO,
): Promise<number> {
  const view = progressView(options.output, io);
  let ended: FinalEvent | 'interrupted';
  try {
    ended = await readToTheEnd(api, download, io.signal, view.show);
  } finally {
    view.close();
  }
  if (ended === 'interrupted') return stopFollowing(api, download.id, options, io);
  return report(ended, options, io);
}

/**
 * Reads the download's events until a final one, reopening the stream (with the last
 * event's id) when it is lost after it was open once: a stream that cannot be opened at
 * all, a problem answer and an event we do not understand are ApiErrors at once.
 */
async function readToTheEnd(
  api: FlagshipApi,
  download: Pick<DownloadAccepted, 'id' | 'links'>,
  signal: AbortSignal | undefined,
  onEvent: (event: DownloadEvent, frame: SseEvent) => void,
): Promise<FinalEvent | 'interrupted'> {
  let lastEventId: string | undefined;
  let opened = false;
  let losses = 0;
  for (;;) {
    let final: FinalEvent | undefined;
    let news = false;
    let lost: string;
    try {
      const body = await api.openEvents(download.links.events, { lastEventId, signal });
      opened = true;
      await readEventStream(body, (frame) => {
        if (frame.id !== undefined) lastEventId = frame.id;
        const event = parseDownloadEvent(frame, download.id);
        news ||= event.event !== 'status';
        onEvent(event, frame);
        if (isFinal(event)) final = event;
        return final !== undefined;
      });
      if (final !== undefined) return final;
      lost = 'the stream ended before the download did';
    } catch (error) {
      if (signal?.aborted === true) return 'interrupted';
      if (!opened || (error instanceof ApiError && error.kind !== 'unreachable')) throw error;
      lost = describeLoss(error);
    }
    losses = news ? 1 : losses + 1;
    const wait = RECONNECT_DELAYS_MS[losses - 1];
    if (wait === undefined) throw new ApiError('unreachable', `lost the event stream of ${download.id}: ${lost}`);
    try {
      await delay(wait, undefined, { signal });
    } catch {
      return 'interrupted';
    }
  }
}

function isFinal(event: DownloadEvent): event is FinalEvent {
  return event.event === 'completed' || event.event === 'failed' || event.event === 'cancelled';
}

/** An SSE frame as the API's DownloadEvent; an ApiError when it is not one. */
function parseDownloadEvent(frame: SseEvent, id: string): DownloadEvent {
  try {
    return HttpContracts.downloadEvent.parse({ event: frame.event, data: JSON.parse(frame.data) as unknown });
  } catch (error) {
    if (!(error instanceof ContractError || error instanceof SyntaxError)) throw error;
    throw new ApiError('contract', `did not understand the event stream of ${id}: ${error.message}`, { cause: error });
  }
}

function describeLoss(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** What the user sees while following: the events drawn as text, as NDJSON lines, or nothing (--json). */
function progressView(
  output: FollowOutput,
  io: CliIO,
): { show: (event: DownloadEvent, frame: SseEvent) => void; close: () => void } {
  if (output === 'ndjson') {
    return {
      show: (event, frame) =>
        printJson(io, { event: event.event, ...(frame.id === undefined ? {} : { id: frame.id }), data: event.data }),
      close: () => {},
    };
  }
  if (output === 'json') return { show: () => {}, close: () => {} };
  const bar = io.stdout.isTTY === true;
  const render = bar ? barRenderer(io) : lineRenderer(io);
  let drawn = false;
  return {
    show: (event) => {
      render(event.data);
      drawn = true;
    },
    close: () => {
      if (bar && drawn) io.stdout.write('\n');
    },
  };
}

/** What the renderers draw: every event's data carries these. */
type Progress = Pick<DownloadProgress, 'done' | 'total' | 'outcomes'>;

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

/** The end: the report line (text) or the final status (--json); why it failed on stderr. */
function report(final: FinalEvent, options: FollowOptions, io: CliIO): number {
  const status = final.data;
  if (options.output === 'json') printJson(io, status);
  if (options.output === 'text' && final.event === 'completed') io.stdout.write(`\n${finalReport(status)}\n`);
  const prefix = `flagship ${options.command}:`;
  if (final.event === 'failed') {
    io.stderr.write(`${prefix} the download failed: ${status.failedReason ?? 'no reason given'}\n`);
  } else if (final.event === 'cancelled') {
    io.stderr.write(`${prefix} the download ${status.id} was cancelled: ${countsLine(status)}\n`);
  }
  for (const line of failureLines(status)) io.stderr.write(`${line}\n`);
  return final.event === 'completed' ? downloadExitCode(status) : ExitCodes.failed;
}

/** Ctrl-C: leave the download running and say how to cancel it, or cancel it (--cancel-on-exit). */
async function stopFollowing(api: FlagshipApi, id: string, options: FollowOptions, io: CliIO): Promise<number> {
  const prefix = `flagship ${options.command}:`;
  if (!options.cancelOnExit) {
    io.stderr.write(
      `${prefix} stopped following ${id}; the download goes on. To cancel it: flagship cancel ${id}${options.apiArgument}\n`,
    );
    return ExitCodes.interrupted;
  }
  let status;
  try {
    status = await api.cancelDownload(id, AbortSignal.timeout(CANCEL_TIMEOUT_MS));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    throw new ApiError(error.kind, `could not cancel ${id}: ${error.message}`, { status: error.status, cause: error });
  }
  if (options.output === 'json') printJson(io, status);
  io.stderr.write(`${prefix} cancelled ${id}; it is ${status.state}: ${countsLine(status)}\n`);
  return ExitCodes.interrupted;
}
