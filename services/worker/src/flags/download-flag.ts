// Download one flag: its GIF and its metadata.json at the same time, over the shared
// keep-alive dispatcher, with retries for what may pass (network errors, timeouts, 5xx)
// and a final answer for what will not (404, a body that is not a GIF, bad metadata).
// The GIF is then saved as `{CC}_{country}.gif` through the flag store.
//
// A flag's own network/HTTP failure becomes an ERROR outcome, never an exception. Two
// things do throw: the store (a full disk must fail the chunk, so the queue retries it)
// and `signal` being aborted (shutdown: the chunk is handed back, not finished).
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { FlagOutcome, FlagStore } from '@flagship/common';
import { request, type Dispatcher } from 'undici';
import { flagFileName } from './flag-file-name.ts';

export interface DownloadFlagDeps {
  /** Keep-alive pool to the origin (createOriginDispatcher), with the size cap and timeouts. */
  dispatcher: Dispatcher;
  /** Like the reference's BASE_URL: `{originUrl}/{cc}/{cc}.gif`. */
  originUrl: string;
  store: FlagStore;
  /** HTTP attempts per flag, at least 1. */
  attempts: number;
  /** Delay before the second attempt; doubled each time, with jitter. */
  retryBaseDelayMs: number;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

/** The longest country name kept in an outcome (it travels through Redis and SSE). */
export const MAX_COUNTRY_LENGTH = 200;

type Attempt<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'not-found'; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'error'; reason: string };

const GIF_SIGNATURES = ['GIF87a', 'GIF89a'];

export async function downloadFlag(code: string, deps: DownloadFlagDeps, signal: AbortSignal): Promise<FlagOutcome> {
  const cc = code.toLowerCase();
  const base = deps.originUrl.replace(/\/+$/, '');
  const urls = { gif: `${base}/${cc}/${cc}.gif`, metadata: `${base}/${cc}/metadata.json` };
  const attempts = Math.max(1, deps.attempts);

  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    const [gif, country] = await Promise.all([
      fetchFrom(urls.gif, deps.dispatcher, signal, readGif),
      fetchFrom(urls.metadata, deps.dispatcher, signal, readCountry),
    ]);
    const result = combine(gif, country);
    if (result.kind === 'ok') return saveFlag(code, result.value, attempt, deps.store);
    if (result.kind === 'not-found') return { code, status: 'NOT_FOUND', reason: result.reason, attempts: attempt };
    if (result.kind === 'error') return { code, status: 'ERROR', reason: result.reason, attempts: attempt };
    if (attempt >= attempts) {
      return {
        code,
        status: 'ERROR',
        reason: `gave up after ${attempt} attempts: ${result.reason}`,
        attempts: attempt,
      };
    }
    await sleep(backoffDelay(attempt, deps.retryBaseDelayMs, deps.random ?? Math.random), signal);
  }
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number): number {
  const ceiling = baseMs * 2 ** (attempt - 1);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

async function saveFlag(
  code: string,
  flag: { gif: Uint8Array; country: string },
  attempts: number,
  store: FlagStore,
): Promise<FlagOutcome> {
  const file = flagFileName(code, flag.country);
  await store.save(file, flag.gif);
  const country = flag.country.slice(0, MAX_COUNTRY_LENGTH).toWellFormed();
  return { code, status: 'OK', country, file, bytes: flag.gif.byteLength, attempts };
}

/** Both halves must succeed; a final answer (404, then error) outranks a retryable one. */
function combine(gif: Attempt<Uint8Array>, country: Attempt<string>): Attempt<{ gif: Uint8Array; country: string }> {
  if (gif.kind === 'ok' && country.kind === 'ok')
    return { kind: 'ok', value: { gif: gif.value, country: country.value } };
  const failures = [gif, country].filter((half) => half.kind !== 'ok');
  for (const kind of ['not-found', 'error', 'retry'] as const) {
    const failure = failures.find((half) => half.kind === kind);
    if (failure !== undefined) return { kind, reason: failures.map((half) => half.reason).join('; ') };
  }
  throw new Error('unreachable: a failed half has a kind');
}

type BodyReader<T> = (body: Dispatcher.ResponseData['body'], url: string) => Promise<Attempt<T>>;

/**
 * One GET, classified. Never throws for the origin's misbehaviour; rethrows only the
 * abort of `signal`. Every response body is read or dumped (undici keeps the socket
 * busy otherwise).
 */
async function fetchFrom<T>(
  url: string,
  dispatcher: Dispatcher,
  signal: AbortSignal,
  read: BodyReader<T>,
): Promise<Attempt<T>> {
  try {
    const { statusCode, body } = await request(url, { dispatcher, signal, method: 'GET' });
    if (statusCode === 200) return await read(body, url);
    await body.dump();
    return classifyStatus(statusCode, url);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return classifyError(error, url);
  }
}

function classifyStatus(statusCode: number, url: string): Attempt<never> {
  const reason = `HTTP ${statusCode} from ${url}`;
  if (statusCode === 404) return { kind: 'not-found', reason };
  // 5xx, and the two 4xx that mean "not now" rather than "never".
  if (statusCode >= 500 || statusCode === 408 || statusCode === 429) return { kind: 'retry', reason };
  return { kind: 'error', reason };
}

function classifyError(error: unknown, url: string): Attempt<never> {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const reason = `${typeof code === 'string' ? `${code}: ` : ''}${String(message)} (${url})`;
  // A body over the cap will be over it next time too.
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return { kind: 'error', reason };
  return { kind: 'retry', reason };
}

const readGif: BodyReader<Uint8Array> = async (body, url) => {
  const bytes = new Uint8Array(await body.arrayBuffer());
  const signature = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (!GIF_SIGNATURES.includes(signature)) {
    return { kind: 'error', reason: `not a GIF image (${bytes.byteLength} bytes) from ${url}` };
  }
  return { kind: 'ok', value: bytes };
};

const readCountry: BodyReader<string> = async (body, url) => {
  const text = await body.text();
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    return { kind: 'error', reason: `metadata is not JSON from ${url}` };
  }
  const country = (metadata as { country?: unknown } | null)?.country;
  if (typeof country !== 'string') return { kind: 'error', reason: `metadata has no string "country" from ${url}` };
  return { kind: 'ok', value: country };
};

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}
