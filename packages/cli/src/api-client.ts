// The Flagship API as the commands use it: one method per endpoint, each answer checked
// against the public API's shapes (@flagship/common's HttpContracts) before a command
// sees it. Every request carries `Authorization: Bearer $FLAGSHIP_API_KEY` when a key is
// set, and every POST an Idempotency-Key. Whatever goes wrong between us and the API is
// an ApiError, whose message is the line to print (exit 3): the API cannot be reached,
// it answered a problem (`<title>: <detail>`), or an answer we do not understand.
import { randomUUID } from 'node:crypto';
import {
  HttpContracts,
  type DownloadAccepted,
  type DownloadList,
  type DownloadListQuery,
  type DownloadRequest,
  type DownloadStatus,
} from '@flagship/common';
import { FlagshipError } from '@flagship/runtime';

export type ApiErrorKind = 'unreachable' | 'problem' | 'contract';

export class ApiError extends FlagshipError {
  readonly kind: ApiErrorKind;
  /** The HTTP status of a problem. */
  readonly status: number | undefined;

  constructor(kind: ApiErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super('FLAGSHIP_API', message, { cause: options.cause });
    this.name = 'ApiError';
    this.kind = kind;
    this.status = options.status;
  }
}

export interface FlagshipApiOptions {
  /** The API's origin, e.g. http://localhost:3000. */
  api: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string | undefined;
}

interface Checker<T> {
  parse(value: unknown): T;
}

interface CallOptions<T> {
  method?: 'GET' | 'POST' | 'DELETE';
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** The success status; anything else is read as a problem. */
  expect: 200 | 202;
  answer: Checker<T>;
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
}

export class FlagshipApi {
  readonly api: string;
  readonly #headers: Record<string, string>;

  constructor(options: FlagshipApiOptions) {
    this.api = options.api;
    this.#headers = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
  }

  /** POST /v1/downloads. Not abortable: once asked, the answer (its id) is worth waiting for. */
  submitDownload(request: DownloadRequest, idempotencyKey?: string): Promise<DownloadAccepted> {
    return this.#call('/v1/downloads', {
      method: 'POST',
      body: request,
      expect: 202,
      answer: HttpContracts.downloadAccepted,
      idempotencyKey,
    });
  }

  /** POST /v1/downloads/:id/retry: a new download of the flags that failed (and NOT_FOUND ones too). */
  retryDownload(id: string, includeNotFound: boolean, idempotencyKey?: string): Promise<DownloadAccepted> {
    return this.#call(`/v1/downloads/${id}/retry`, {
      method: 'POST',
      query: { include: includeNotFound ? 'not_found' : undefined },
      expect: 202,
      answer: HttpContracts.downloadAccepted,
      idempotencyKey,
    });
  }

  getDownload(id: string, signal?: AbortSignal): Promise<DownloadStatus> {
    return this.#call(`/v1/downloads/${id}`, { expect: 200, answer: HttpContracts.downloadStatus, signal });
  }

  /** DELETE /v1/downloads/:id: 202 with the status as the cancel found it. */
  cancelDownload(id: string, signal?: AbortSignal): Promise<DownloadStatus> {
    return this.#call(`/v1/downloads/${id}`, {
      method: 'DELETE',
      expect: 202,
      answer: HttpContracts.downloadStatus,
      signal,
    });
  }

  listDownloads(query: Partial<DownloadListQuery>, signal?: AbortSignal): Promise<DownloadList> {
    return this.#call('/v1/downloads', { query, expect: 200, answer: HttpContracts.downloadList, signal });
  }

  /** Opens an event stream (a download's links.events): its body once the API answered 200. */
  async openEvents(
    path: string,
    options: { lastEventId?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const response = await this.#fetch(this.#url(path), { headers, signal: options.signal });
    if (response.status === 200 && response.body !== null) return response.body;
    throw this.#problem(response, await readJson(response, options.signal));
  }

  async #call<T>(path: string, options: CallOptions<T>): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? randomUUID();
    const response = await this.#fetch(this.#url(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal,
    });
    const json = await readJson(response, options.signal);
    if (response.status !== options.expect) throw this.#problem(response, json);
    try {
      return options.answer.parse(json);
    } catch (error) {
      throw new ApiError('contract', `did not understand the API's answer: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  #url(path: string, query: Record<string, string | number | undefined> = {}): URL {
    const url = new URL(path, this.api);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, `${value}`);
    return url;
  }

  async #fetch(url: URL, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    try {
      return await fetch(url, { ...init, headers: { ...init.headers, ...this.#headers } });
    } catch (error) {
      if (isAbortError(error)) throw error;
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new ApiError('unreachable', `cannot reach the API at ${this.api}: ${reason} (is it running?)`, {
        cause: error,
      });
    }
  }

  /** An error answer as an ApiError: the problem's `<title>: <detail>`, or the bare HTTP status. */
  #problem(response: Response, json: unknown): ApiError {
    const { status } = response;
    let message = HttpContracts.problem.check(json)
      ? `${json.title}: ${json.detail}`
      : `HTTP ${status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    if ((status === 401 || status === 403) && this.#headers.authorization === undefined) {
      message += ' (set FLAGSHIP_API_KEY to send an API key)';
    }
    return new ApiError('problem', message, { status });
  }
}

/** The body as JSON; undefined when it is not JSON (or is cut short), unless we were interrupted. */
async function readJson(response: Response, signal: AbortSignal | undefined): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch (error) {
    if (isAbortError(error) || signal?.aborted === true) throw error;
    return undefined;
  }
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
