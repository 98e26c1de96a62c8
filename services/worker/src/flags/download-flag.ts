// Download one flag: its GIF and its metadata.json at the same time, over the shared
// keep-alive dispatcher, with retries for what may pass (network errors, timeouts, 408,
// 429, 5xx) and a final answer for what will not (404, a body that is not a whole GIF,
// bad metadata, a redirect off the origin). The GIF is then saved as
// `{CC}_{country}.gif` through the flag store.
//
// Bounds: one deadline (deadlineMs) covers all attempts of the flag, retry delays and
// rate-limit waits included (flag-deadline.ts); each body is capped by the dispatcher's
// size limit while it arrives, so a flag never holds more than that per file.
// Politeness: Retry-After on 429/503 is honoured (retry-after.ts), and an optional
// limiter spaces requests to the origin host across all workers (origin-rate-limit.ts).
// Redirects are followed by hand, under a host policy (redirect-policy.ts). A repeat
// download sends the validators remembered for the flag (flag-validators.ts) and a 304
// is an OK outcome with `unchanged: true`, no body and no write.
//
// A flag's own network/HTTP failure becomes an ERROR outcome, never an exception, and
// so does its deadline. Two things do throw: the store (a full disk must fail the
// chunk, so the queue retries it) and `signal` being aborted (shutdown: the chunk is
// handed back, not finished).
import type { FlagOutcome, FlagStore } from '@flagship/common';
import { request, type Dispatcher } from 'undici';
import { sleep, untilAborted } from './abortable.ts';
import { checkGif, checkMetadata } from './flag-content.ts';
import { startFlagDeadline, type FlagDeadline } from './flag-deadline.ts';
import { flagFileName } from './flag-file-name.ts';
import {
  conditionalHeaders,
  hasValidators,
  responseValidators,
  type FlagValidators,
  type HttpValidators,
  type ValidatorStore,
} from './flag-validators.ts';
import type { OriginRateLimiter } from './origin-rate-limit.ts';
import { MAX_REDIRECTS, decideRedirect, isRedirect } from './redirect-policy.ts';
import { RETRY_AFTER_STATUSES, parseRetryAfter } from './retry-after.ts';

export { MAX_COUNTRY_LENGTH } from './flag-content.ts';

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
  /** Longest time for one flag, all attempts and waits included. Default DEFAULT_FLAG_DEADLINE_MS. */
  deadlineMs?: number;
  /** Hosts (lower case, `host` or `host:port`) that redirects may lead to besides the origin's own. */
  allowedHosts?: readonly string[];
  /** Shared per-host request rate; none: requests go at once. */
  rateLimiter?: OriginRateLimiter;
  /** Remembered ETag / Last-Modified per flag; none: no conditional requests. */
  validators?: ValidatorStore;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

export const DEFAULT_FLAG_DEADLINE_MS = 30_000;

type ResponseHeaders = Dispatcher.ResponseData['headers'];

/** One file's answer, classified. */
type Fetched<T> =
  | { kind: 'ok'; value: T; url: string; validators: HttpValidators }
  | { kind: 'not-modified'; url: string; validators: HttpValidators }
  | { kind: 'not-found'; reason: string }
  | { kind: 'error'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

type Failure = Extract<Fetched<unknown>, { reason: string }>;
type Success<T> = Extract<Fetched<T>, { url: string }>;

/** What one flag's requests share. */
interface FlagRun {
  deps: DownloadFlagDeps;
  deadline: FlagDeadline;
  /** Attempts started so far, and the last retryable failure (for a deadline's reason). */
  attempts: number;
  lastFailure?: string;
}

export async function downloadFlag(code: string, deps: DownloadFlagDeps, signal: AbortSignal): Promise<FlagOutcome> {
  const deadlineMs = deps.deadlineMs ?? DEFAULT_FLAG_DEADLINE_MS;
  const run: FlagRun = { deps, deadline: startFlagDeadline(signal, deadlineMs), attempts: 0 };
  try {
    return await downloadWithin(code, run);
  } catch (error) {
    if (signal.aborted) throw signal.reason; // shutdown: hand the chunk back
    if (!run.deadline.expired()) throw error; // the store failed: fail the chunk
    const why = (run.deadline.signal.reason as Error).message;
    const tried = `${run.attempts} attempt${run.attempts === 1 ? '' : 's'}`;
    const last = run.lastFailure === undefined ? '' : `; last failure: ${run.lastFailure}`;
    return { code, status: 'ERROR', reason: `${why} (${tried}${last})`, attempts: run.attempts };
  } finally {
    run.deadline.end();
  }
}

async function downloadWithin(code: string, run: FlagRun): Promise<FlagOutcome> {
  const { deps, deadline } = run;
  const cc = code.toLowerCase();
  const base = deps.originUrl.replace(/\/+$/, '');
  const urls = { gif: `${base}/${cc}/${cc}.gif`, metadata: `${base}/${cc}/metadata.json` };
  const attempts = Math.max(1, deps.attempts);
  const known = await rememberedValidators(code, urls.gif, deps, deadline.signal);

  for (let attempt = 1; ; attempt++) {
    deadline.signal.throwIfAborted();
    run.attempts = attempt;
    const [gif, metadata] = await Promise.all([
      fetchFrom(urls.gif, run, readGif, known?.gif),
      fetchFrom(urls.metadata, run, readCountry, known?.metadata),
    ]);
    let failure = firstFailure(gif, metadata);
    if (failure === undefined) {
      const settled = await settle(code, urls.gif, gif as Success<Uint8Array>, metadata as Success<string>, known, run);
      if ('status' in settled) return settled;
      failure = settled;
    }
    if (failure.kind === 'not-found') return { code, status: 'NOT_FOUND', reason: failure.reason, attempts: attempt };
    if (failure.kind === 'error') return { code, status: 'ERROR', reason: failure.reason, attempts: attempt };
    run.lastFailure = failure.reason;
    if (attempt >= attempts) {
      return {
        code,
        status: 'ERROR',
        reason: `gave up after ${attempt} attempts: ${failure.reason}`,
        attempts: attempt,
      };
    }
    await waitBeforeRetry(attempt, failure.retryAfterMs ?? 0, run);
  }
}

/**
 * Both halves arrived (200 or 304): save, or find the flag unchanged. A 304 on the GIF
 * with metadata naming another country needs the GIF's bytes under the new name: it is
 * fetched again, unconditionally.
 */
async function settle(
  code: string,
  gifUrl: string,
  gifHalf: Success<Uint8Array>,
  metadata: Success<string>,
  known: FlagValidators | undefined,
  run: FlagRun,
): Promise<FlagOutcome | Failure> {
  let gif = gifHalf;
  const country = metadata.kind === 'ok' ? metadata.value : (known?.country ?? '');
  const file = flagFileName(code, country);
  if (gif.kind === 'not-modified' && (known === undefined || file !== known.file)) {
    const again = await fetchFrom(gifUrl, run, readGif, undefined);
    if (!('url' in again)) return again;
    if (again.kind !== 'ok') return { kind: 'error', reason: `HTTP 304 to an unconditional GET of ${gifUrl}` };
    gif = again;
  }
  const outcome: FlagOutcome = {
    code,
    status: 'OK',
    country: country.toWellFormed(),
    file,
    bytes: gif.kind === 'ok' ? gif.value.byteLength : (known?.bytes ?? 0),
    attempts: run.attempts,
    ...(gif.kind === 'not-modified' ? { unchanged: true } : {}),
    ...(gif.url === gifUrl ? {} : { finalUrl: gif.url }),
  };
  if (gif.kind === 'ok') await run.deps.store.save(file, gif.value);
  await remember(code, gifUrl, outcome, gif, metadata, known, run);
  return outcome;
}

/**
 * Validators for a conditional GET: only those given for this URL, for the file the
 * naming rule gives their country (a record from Redis names no other file), and while
 * the store still has that file at the size remembered.
 */
async function rememberedValidators(
  code: string,
  gifUrl: string,
  deps: DownloadFlagDeps,
  signal: AbortSignal,
): Promise<FlagValidators | undefined> {
  const { validators, store } = deps;
  if (validators === undefined || store.stat === undefined) return undefined;
  const known = await untilAborted(validators.get(code), signal);
  if (known === undefined || known.url !== gifUrl || known.file !== flagFileName(code, known.country)) return undefined;
  const saved = await store.stat(known.file);
  return saved?.size === known.bytes ? known : undefined;
}

/** Record the flag's new validators (when they changed). Never fails the flag: it is saved. */
async function remember(
  code: string,
  gifUrl: string,
  outcome: FlagOutcome,
  gif: Success<Uint8Array>,
  metadata: Success<string>,
  known: FlagValidators | undefined,
  run: FlagRun,
): Promise<void> {
  const store = run.deps.validators;
  // A 304 may carry updated validators; when it does not, the remembered ones still hold.
  const gifValidators = { ...(gif.kind === 'not-modified' ? known?.gif : {}), ...gif.validators };
  if (store === undefined || !hasValidators(gifValidators)) return;
  const record: FlagValidators = {
    url: gifUrl,
    file: outcome.file ?? '',
    bytes: outcome.bytes ?? 0,
    country: outcome.country ?? '',
    gif: gifValidators,
    metadata: { ...(metadata.kind === 'not-modified' ? known?.metadata : {}), ...metadata.validators },
  };
  if (known !== undefined && JSON.stringify(record) === JSON.stringify(known)) return;
  // Bounded by the flag's signal; a failure or a late answer only costs the next
  // download its conditional requests.
  await untilAborted(store.set(code, record), run.deadline.signal).catch(() => {});
}

/**
 * The wait before the next attempt: the backoff, or longer when the origin asked for it
 * (Retry-After). A wait that would end past the deadline is not slept: the flag gives
 * up now with `deadline`.
 */
async function waitBeforeRetry(attempt: number, retryAfterMs: number, run: FlagRun): Promise<void> {
  const { deps, deadline } = run;
  const backoff = backoffDelay(attempt, deps.retryBaseDelayMs, deps.random ?? Math.random);
  const delay = Math.max(backoff, retryAfterMs);
  if (delay >= deadline.remainingMs()) {
    const asked = retryAfterMs >= backoff && retryAfterMs > 0 ? ' (Retry-After)' : '';
    deadline.expireNow(`next attempt due in ${delay} ms${asked},`);
  }
  await sleep(delay, deadline.signal);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number): number {
  const ceiling = baseMs * 2 ** (attempt - 1);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The failure that decides: 404 first, then a final error, then a retryable one (with
 * the longest Retry-After either half was given).
 */
function firstFailure(...halves: Array<Fetched<unknown>>): Failure | undefined {
  const failures = halves.filter((half): half is Failure => 'reason' in half);
  const reason = failures.map((half) => half.reason).join('; ');
  for (const kind of ['not-found', 'error'] as const) {
    if (failures.some((half) => half.kind === kind)) return { kind, reason };
  }
  if (failures.length === 0) return undefined;
  const retryAfters = failures.map((half) => (half.kind === 'retry' ? half.retryAfterMs : undefined));
  const asked = retryAfters.filter((ms) => ms !== undefined);
  return asked.length === 0 ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs: Math.max(...asked) };
}

type BodyReader<T> = (
  body: Dispatcher.ResponseData['body'],
  url: string,
  headers: ResponseHeaders,
) => Promise<{ ok: true; value: T } | { ok: false; reason: string }>;

/**
 * One GET, redirects followed, classified. Never throws for the origin's misbehaviour;
 * rethrows only the abort of the flag's signal. Every response body is read or dumped
 * (undici keeps the socket busy otherwise).
 */
async function fetchFrom<T>(
  url: string,
  run: FlagRun,
  read: BodyReader<T>,
  validators: HttpValidators | undefined,
): Promise<Fetched<T>> {
  const signal = run.deadline.signal;
  try {
    const answer = await getFollowingRedirects(url, run, conditionalHeaders(validators));
    if ('refused' in answer) return { kind: 'error', reason: answer.refused };
    const { response, finalUrl } = answer;
    const { statusCode, headers, body } = response;
    if (statusCode === 200) {
      const content = await read(body, finalUrl, headers);
      if (!content.ok) return { kind: 'error', reason: content.reason };
      return { kind: 'ok', value: content.value, url: finalUrl, validators: responseValidators(headers) };
    }
    await body.dump();
    if (statusCode === 304 && validators !== undefined && hasValidators(validators)) {
      return { kind: 'not-modified', url: finalUrl, validators: responseValidators(headers) };
    }
    return classifyStatus(statusCode, finalUrl, headers);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return classifyError(error, url);
  }
}

/**
 * GET `url`, following up to MAX_REDIRECTS redirects that the policy allows (a refused
 * one is the answer). The rate limiter is asked before every request, each hop included.
 */
async function getFollowingRedirects(
  url: string,
  run: FlagRun,
  headers: Record<string, string>,
): Promise<{ response: Dispatcher.ResponseData; finalUrl: string } | { refused: string }> {
  const { deps, deadline } = run;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    await waitForSlot(current, run);
    const response = await request(current, {
      dispatcher: deps.dispatcher,
      signal: deadline.signal,
      method: 'GET',
      headers,
    });
    if (!isRedirect(response.statusCode)) return { response, finalUrl: current.href };
    await response.body.dump();
    if (hop >= MAX_REDIRECTS) return { refused: `more than ${MAX_REDIRECTS} redirects from ${url}` };
    const decision = decideRedirect(current, response.headers.location, deps.allowedHosts ?? []);
    if (!decision.follow) return { refused: decision.reason };
    current = decision.url;
  }
}

/**
 * The rate limit is per host name, whatever the port or scheme: an origin that moved
 * to https (another port) is still the same machine to be polite to.
 */
async function waitForSlot(url: URL, run: FlagRun): Promise<void> {
  const limiter = run.deps.rateLimiter;
  if (limiter === undefined) return;
  const { deadline } = run;
  if (!(await limiter.acquire(url.hostname, deadline.remainingMs(), deadline.signal))) {
    deadline.expireNow(`next request slot to ${url.hostname} (rate limit) lies`);
    deadline.signal.throwIfAborted();
  }
}

function classifyStatus(statusCode: number, url: string, headers: ResponseHeaders): Failure {
  const reason = `HTTP ${statusCode} from ${url}`;
  if (statusCode === 404) return { kind: 'not-found', reason };
  if (RETRY_AFTER_STATUSES.has(statusCode)) {
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
  }
  // 5xx, and the 4xx that mean "not now" rather than "never" (429 above).
  if (statusCode >= 500 || statusCode === 408) return { kind: 'retry', reason };
  return { kind: 'error', reason };
}

function classifyError(error: unknown, url: string): Failure {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const reason = `${typeof code === 'string' ? `${code}: ` : ''}${String(message)} (${url})`;
  // A body over the cap will be over it next time too.
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return { kind: 'error', reason };
  return { kind: 'retry', reason };
}

function contentType(headers: ResponseHeaders): string {
  const value = headers['content-type'];
  return (Array.isArray(value) ? value[0] : value) ?? 'no content type';
}

const readGif: BodyReader<Uint8Array> = async (body, url, headers) => {
  const bytes = new Uint8Array(await body.arrayBuffer());
  const check = checkGif(bytes);
  if (check.ok) return { ok: true, value: bytes };
  const what = check.kind === 'not-gif' ? 'not a GIF image' : 'not a whole GIF';
  return {
    ok: false,
    reason: `${what} (${contentType(headers)}, ${bytes.byteLength} bytes: ${check.problem}) from ${url}`,
  };
};

const readCountry: BodyReader<string> = async (body, url) => {
  const check = checkMetadata(await body.text());
  return check.ok ? { ok: true, value: check.country } : { ok: false, reason: `${check.problem} from ${url}` };
};
