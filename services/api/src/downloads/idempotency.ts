// POST /v1/downloads with an Idempotency-Key (IETF httpapi idempotency-key draft): the
// first request with a key claims it, atomically, with the fingerprint of its normalized
// body and the id of the download it is about to create, before anything is enqueued.
// Another request with that key and the same body is answered the download the key
// created, marked replayed (same 202 and Location). With another body it is a 422. A
// request that comes while the first is still adding its download waits for it, briefly
// (IDEMPOTENCY_WAIT_MS, polling), then answers 409 "in progress" as the draft allows; when
// the first one failed it has freed the key, and the waiting request claims it itself.
import { createHash, randomUUID } from 'node:crypto';
import type { DownloadAccepted, DownloadRequest } from '@flagship/common';
import { IdempotencyKeyInProgressError, IdempotencyKeyReusedError, InvalidRequestError } from '../errors.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';
import type { IdempotencyEntry } from '../queues/idempotency-keys.ts';
import { downloadLinks } from './download-status.ts';
import { createDownload, resolveCodes, type SubmitDownloadDeps } from './submit-download.ts';

/** Longest wait for the first request with the same key to add its download. */
export const IDEMPOTENCY_WAIT_MS = 2_000;
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 100;

export interface AcceptDownloadDeps extends SubmitDownloadDeps {
  queues: Pick<DownloadQueues, 'addDownload' | 'prefix' | 'index' | 'idempotencyKeys'>;
  /** How long a key is remembered (IDEMPOTENCY_TTL_S). */
  idempotencyTtlSeconds: number;
  /** Default IDEMPOTENCY_WAIT_MS. */
  idempotencyWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface AcceptedDownload {
  accepted: DownloadAccepted;
  /** The key was seen before with this body: `accepted` is the download it created then. */
  replayed: boolean;
}

/**
 * The key itself from the header's value: a structured-field string (`"abc"`, with `\"`
 * and `\\` escapes, as the draft writes it) or a bare value (`abc`, as many clients
 * send it): both name the key abc. The route's schema has already checked the value is
 * 1–255 printable ASCII characters.
 */
export function parseIdempotencyKey(header: string): string {
  if (!(header.length >= 2 && header.startsWith('"') && header.endsWith('"'))) return header;
  const key = unquote(header.slice(1, -1));
  if (key === undefined || key === '') {
    throw new InvalidRequestError('Idempotency-Key is not a valid key', [
      {
        field: '/headers/idempotency-key',
        reason: 'must be a non-empty key, bare or quoted (with \\" and \\\\ escapes)',
      },
    ]);
  }
  return key;
}

/** The content of a structured-field string (RFC 8941 3.3.3), or undefined when it is not one. */
function unquote(quoted: string): string | undefined {
  let key = '';
  for (let i = 0; i < quoted.length; i++) {
    const char = quoted[i] as string;
    if (char === '"') return undefined;
    if (char !== '\\') key += char;
    else if (quoted[i + 1] === '"' || quoted[i + 1] === '\\') key += quoted[++i];
    else return undefined;
  }
  return key;
}

/** What a request asks to download, as the same body always gives it (codes resolved, upper case, in order). */
export function requestFingerprint(codes: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify(['POST /v1/downloads', codes]))
    .digest('hex');
}

function replay(entry: IdempotencyEntry): AcceptedDownload {
  const id = entry.downloadId;
  return {
    accepted: { id, state: 'queued', total: entry.total, replayed: true, links: downloadLinks(id) },
    replayed: true,
  };
}

/** Submits a download; with an Idempotency-Key, at most once per key and body. */
export async function acceptDownload(
  request: DownloadRequest | undefined,
  idempotencyKey: string | undefined,
  deps: AcceptDownloadDeps,
): Promise<AcceptedDownload> {
  const codes = resolveCodes(request);
  if (idempotencyKey === undefined) return { accepted: await createDownload(codes, deps), replayed: false };
  const key = parseIdempotencyKey(idempotencyKey);
  const keys = deps.queues.idempotencyKeys;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + (deps.idempotencyWaitMs ?? IDEMPOTENCY_WAIT_MS);
  const ours: IdempotencyEntry = {
    fingerprint: requestFingerprint(codes),
    downloadId: (deps.newId ?? randomUUID)(),
    total: codes.length,
    state: 'pending',
  };

  for (;;) {
    const first = await keys.claim(key, ours, deps.idempotencyTtlSeconds);
    if (first === undefined) return { accepted: await createClaimed(codes, key, ours, deps), replayed: false };
    let entry: IdempotencyEntry | undefined = first;
    for (let pause = FIRST_POLL_MS; entry !== undefined; pause = Math.min(2 * pause, MAX_POLL_MS)) {
      if (entry.fingerprint !== ours.fingerprint) throw new IdempotencyKeyReusedError();
      if (entry.state === 'done') return replay(entry);
      if (now() >= deadline) throw new IdempotencyKeyInProgressError();
      await sleep(pause);
      entry = await keys.read(key);
    }
    // The first request failed and freed the key: claim it again.
  }
}

/** This request holds the key: create the download, then mark the key done (or free it on failure). */
async function createClaimed(
  codes: readonly string[],
  key: string,
  claim: IdempotencyEntry,
  deps: AcceptDownloadDeps,
): Promise<DownloadAccepted> {
  const keys = deps.queues.idempotencyKeys;
  let accepted: DownloadAccepted;
  try {
    accepted = await createDownload(codes, deps, { id: claim.downloadId });
  } catch (error) {
    await keys.release(key, claim).catch(() => undefined);
    throw error;
  }
  // The download exists: even if marking the key done fails, the key stays claimed (a
  // repeat answers 409 until it expires) rather than free for a second download.
  await keys.complete(key, claim).catch(() => undefined);
  return accepted;
}
