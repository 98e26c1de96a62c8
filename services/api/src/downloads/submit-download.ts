// Accepting a download: decide which codes (the request's, every country, or the
// reference program's 20), check them against the ISO list, record it in the downloads'
// index and add its jobs: one job when the codes fit a chunk, a flow of chunks otherwise.
// Codes the origin does not have (with `all`, some territories) are not an input
// error: the workers report them as NOT_FOUND, as the reference program does.
import { randomUUID } from 'node:crypto';
import {
  COUNTRY_CODES,
  REFERENCE_CODES,
  buildDownloadJobs,
  isCountryCode,
  normalizeCodes,
  type DownloadAccepted,
  type Retention,
  type DownloadRequest,
  type FieldError,
} from '@flagship/common';
import { InvalidRequestError } from '../errors.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import { downloadLinks } from './download-status.ts';

export interface SubmitDownloadDeps {
  queues: Pick<DownloadQueues, 'addDownload' | 'prefix' | 'index'>;
  /** Flags per chunk job. */
  chunkSize: number;
  /** How long and how many finished downloads BullMQ (and so the index) keeps. Default DEFAULT_RETENTION. */
  retention?: Retention;
  newId?: () => string;
  now?: () => number;
}

/** The codes a request asks for, upper-cased and de-duplicated; throws InvalidRequestError. */
export function resolveCodes(request: DownloadRequest | undefined): string[] {
  const codes = request?.codes;
  const all = request?.all === true;
  if (codes !== undefined && all) {
    throw new InvalidRequestError('give either "codes" or "all": true, not both', [
      { field: '/body/all', reason: 'cannot be combined with codes' },
    ]);
  }
  if (all) return [...COUNTRY_CODES];
  if (codes === undefined) return [...REFERENCE_CODES];
  const unknown: FieldError[] = codes.flatMap((code, index) =>
    isCountryCode(code)
      ? []
      : [{ field: `/body/codes/${index}`, reason: `unknown country code ${JSON.stringify(code)}` }],
  );
  if (unknown.length > 0) {
    const names = unknown.map((e) => e.reason.replace('unknown country code ', ''));
    throw new InvalidRequestError(`unknown country code(s): ${names.join(', ')}`, unknown);
  }
  return normalizeCodes(codes);
}

export async function submitDownload(
  request: DownloadRequest | undefined,
  deps: SubmitDownloadDeps,
): Promise<DownloadAccepted> {
  return createDownload(resolveCodes(request), deps);
}

/**
 * Adds a download of these (checked) codes: its record in the index, queued, then its
 * jobs. Both go out at once on the one producer connection, the record first, so no
 * worker finds a job without its record and no round trip is added. When the jobs
 * cannot be added the record is removed again; a record that could not be written is
 * made by the worker when the download ends.
 */
export async function createDownload(
  codes: readonly string[],
  deps: SubmitDownloadDeps,
  options: { id?: string; retryOf?: string } = {},
): Promise<DownloadAccepted> {
  const id = options.id ?? (deps.newId ?? randomUUID)();
  const createdAt = (deps.now ?? Date.now)();
  const retryOf = options.retryOf === undefined ? {} : { retryOf: options.retryOf };
  const jobs = buildDownloadJobs(id, codes, {
    chunkSize: deps.chunkSize,
    prefix: deps.queues.prefix,
    createdAt,
    ...(deps.retention ? { retentionSeconds: deps.retention.ageSeconds, retentionCount: deps.retention.count } : {}),
    ...retryOf,
  });
  const [recorded, added] = await Promise.allSettled([
    deps.queues.index.submitted({ id, total: codes.length, createdAt, ...retryOf }),
    deps.queues.addDownload(jobs),
  ]);
  if (added.status === 'rejected') {
    if (recorded.status === 'fulfilled') await deps.queues.index.forget(id).catch(() => undefined);
    throw added.reason;
  }
  return { id, state: 'queued', total: codes.length, ...retryOf, links: downloadLinks(id) };
}
