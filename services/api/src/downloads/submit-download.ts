// Accepting a download: decide which codes (the request's, every country, or the
// reference program's 20), check them against the ISO list, and add the download's
// jobs: one job when the codes fit a chunk, a flow of chunks otherwise.
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
  type DownloadRequest,
  type FieldError,
} from '@flagship/common';
import { InvalidRequestError } from '../errors.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import { downloadLinks } from './download-status.ts';

export interface SubmitDownloadDeps {
  queues: Pick<DownloadQueues, 'addDownload' | 'prefix'>;
  /** Flags per chunk job. */
  chunkSize: number;
  newId?: () => string;
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
  const codes = resolveCodes(request);
  const id = (deps.newId ?? randomUUID)();
  await deps.queues.addDownload(
    buildDownloadJobs(id, codes, { chunkSize: deps.chunkSize, prefix: deps.queues.prefix }),
  );
  return { id, state: 'queued', total: codes.length, links: downloadLinks(id) };
}
