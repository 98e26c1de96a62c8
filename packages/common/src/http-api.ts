// The public HTTP API's shapes, each written once: route parameters, response bodies,
// the Server-Sent Events of a followed download and the problem details of an error, as
// TypeBox schemas with their types derived from them. The API serializes its responses
// with these schemas and documents them at /docs; the CLI checks what it reads against
// them; tests build their fakes from them, so the API and its clients cannot drift apart.
// The request body (DownloadRequest) and the per-flag FlagOutcome are also job
// contracts, so they stay in contracts.ts.
import { Type, type Static, type TSchema } from 'typebox';
import { FlagOutcome, contract } from './contracts.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A download id as the API makes them: a UUID, lower case. */
export const DOWNLOAD_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const DownloadIdParams = Type.Object({
  id: Type.String({ pattern: DOWNLOAD_ID_PATTERN, description: 'Download id (a UUID, lower case)' }),
});

export const FlagFileParams = Type.Object({
  file: Type.String({ minLength: 1, maxLength: 255, description: 'Saved file name, e.g. BR_Brazil.gif' }),
});

export const DownloadLinks = Type.Object({
  self: Type.String({ description: 'This download' }),
  events: Type.String({ description: 'Its Server-Sent Events stream' }),
});
export type DownloadLinks = Static<typeof DownloadLinks>;

export const DownloadState = Type.Enum(['queued', 'running', 'completed', 'failed', 'cancelled'], {
  description:
    'queued: no flag started yet; running; completed; failed (the download as a whole); ' +
    'cancelled (by DELETE; flags saved before stay)',
});
export type DownloadState = Static<typeof DownloadState>;

/** The request header that makes POST /v1/downloads idempotent (IETF httpapi idempotency-key draft). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** The response header of a replayed POST: the download this key created before. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** The headers of POST /v1/downloads that the API reads (names lower case, as Node gives them). */
export const SubmitDownloadHeaders = Type.Object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x20-\\x7E]+$',
      description:
        'A client-chosen key, 1–255 printable ASCII characters (a structured-field string in quotes or a bare ' +
        'value; "abc" and abc are the same key). The same key with the same body answers the download it ' +
        'created before, marked as replayed; with another body, 422. Remembered for IDEMPOTENCY_TTL_S.',
    }),
  ),
});
export type SubmitDownloadHeaders = Static<typeof SubmitDownloadHeaders>;

/** The 202 answer to POST /v1/downloads (and to POST /v1/downloads/:id/retry). */
export const DownloadAccepted = Type.Object({
  id: Type.String({ format: 'uuid' }),
  state: Type.Literal('queued'),
  total: Type.Integer({ minimum: 0, description: 'Flags requested' }),
  retryOf: Type.Optional(Type.String({ format: 'uuid', description: 'The download this one retries' })),
  replayed: Type.Optional(
    Type.Boolean({
      description:
        'true when an Idempotency-Key was seen before with the same body: this is the download it created then',
    }),
  ),
  links: DownloadLinks,
});
export type DownloadAccepted = Static<typeof DownloadAccepted>;

const flagCount = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });

/** The counts every view of a download carries: status, progress events and list rows. */
const downloadCounts = {
  total: flagCount(),
  done: flagCount('Flags with an outcome so far'),
  saved: flagCount(),
  notFound: flagCount(),
  failed: flagCount('Flags that failed (ERROR)'),
};

/** GET /v1/downloads/:id, and the data of the `status`, `completed` and `failed` events. */
export const DownloadStatus = Type.Object({
  id: Type.String(),
  state: DownloadState,
  ...downloadCounts,
  elapsedSeconds: Type.Number({ minimum: 0, description: 'So far, or final once complete' }),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  message: Type.Optional(
    Type.String({ description: 'The report line once complete ("20 flags downloaded in 0.04s"), or why it failed' }),
  ),
  retryOf: Type.Optional(Type.String({ format: 'uuid', description: 'The download this one retries' })),
  failedReason: Type.Optional(
    Type.String({
      description:
        'Why the download as a whole failed (state failed only), as the queue reported it; ' +
        "a flag's own failure is in its outcome's reason",
    }),
  ),
  files: Type.Array(Type.String(), { description: 'Saved file names, in request order' }),
  outcomes: Type.Array(FlagOutcome, { description: 'One per flag decided so far, in request order' }),
  links: DownloadLinks,
});
export type DownloadStatus = Static<typeof DownloadStatus>;

/** The data of a `progress` event. */
export const DownloadProgress = Type.Object({
  ...downloadCounts,
  outcomes: Type.Array(FlagOutcome, { description: 'Outcomes decided since the previous event' }),
});
export type DownloadProgress = Static<typeof DownloadProgress>;

/** One row of GET /v1/downloads: a download's summary, without per-flag outcomes. */
export const DownloadListItem = Type.Object({
  id: Type.String({ format: 'uuid' }),
  state: DownloadState,
  ...downloadCounts,
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  retryOf: Type.Optional(Type.String({ format: 'uuid' })),
  links: DownloadLinks,
});
export type DownloadListItem = Static<typeof DownloadListItem>;

export const MAX_LIST_LIMIT = 100;

/** The query of GET /v1/downloads. */
export const DownloadListQuery = Type.Object({
  state: Type.Optional(DownloadState),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, default: 20, description: 'Items per page' }),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'Opaque: the nextCursor of the previous page' }),
  ),
});
export type DownloadListQuery = Static<typeof DownloadListQuery>;

/** GET /v1/downloads: newest first; pass nextCursor back as cursor for the next page. */
export const DownloadList = Type.Object({
  items: Type.Array(DownloadListItem),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
});
export type DownloadList = Static<typeof DownloadList>;

/** The query of POST /v1/downloads/:id/retry. */
export const RetryQuery = Type.Object({
  include: Type.Optional(
    Type.Literal('not_found', { description: 'Retry NOT_FOUND flags too, not only those that ended ERROR' }),
  ),
});
export type RetryQuery = Static<typeof RetryQuery>;

export const DOWNLOAD_EVENTS_DESCRIPTION =
  'Server-Sent Events (text/event-stream), each an `event:` name and a `data:` line of JSON: `status` first, ' +
  '`progress` as flags are decided, then `completed`, `failed` or `cancelled` and the stream ends. A finished ' +
  'download sends `status` and its final event at once. Every event has an `id:`; a client that reconnects ' +
  'with `Last-Event-ID` gets the events it missed. Comment lines keep idle streams open.';

/** A Server-Sent Event's shape: its name (`event:`) and the schema of its JSON data (`data:`). */
function namedEvent<Name extends string, Data extends TSchema>(event: Name, data: Data, description: string) {
  return Type.Object({ event: Type.Literal(event), data }, { description });
}

/** One Server-Sent Event of GET /v1/downloads/:id/events. */
export const DownloadEvent = Type.Union(
  [
    namedEvent('status', DownloadStatus, 'First: the download as it is when the stream opens'),
    namedEvent('progress', DownloadProgress, 'As flags are decided: the counts so far and the new outcomes'),
    namedEvent('completed', DownloadStatus, 'Last: the final status, with the summary; the stream ends'),
    namedEvent('failed', DownloadStatus, 'Last: the final status, with failedReason; the stream ends'),
    namedEvent('cancelled', DownloadStatus, 'Last: the status when cancelled, with the counts so far; the stream ends'),
  ],
  { description: DOWNLOAD_EVENTS_DESCRIPTION },
);
export type DownloadEvent = Static<typeof DownloadEvent>;

export const HealthStatus = Type.Object({ status: Type.String() });

export const FieldError = Type.Object({
  field: Type.String({ description: 'JSON pointer to the offending value, e.g. /body/codes/3' }),
  reason: Type.String(),
});
export type FieldError = Static<typeof FieldError>;

/** RFC 9457 problem details: the body of every error response. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URI reference naming the problem type' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    instance: Type.String({ description: 'The request path' }),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    errors: Type.Optional(Type.Array(FieldError, { description: 'Validation failures, one per field' })),
  },
  { description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof Problem>;

/** Checkers for what a client reads from the API, compiled on first use (see contract). */
export const HttpContracts = {
  downloadAccepted: contract('accepted download', DownloadAccepted),
  downloadStatus: contract('download status', DownloadStatus),
  downloadList: contract('download list', DownloadList),
  downloadEvent: contract('download event', DownloadEvent),
  problem: contract('problem details', Problem),
} as const;
