// HTTP schemas of the API's own responses (the request body, DownloadRequest, and the
// per-flag FlagOutcome come from @flagship/common). They validate nothing at run time:
// they document the API (OpenAPI at /docs) and drive Fastify's fast serialization,
// which also drops any field not listed here.
import { FlagOutcome } from '@flagship/common';
import { Type } from 'typebox';

export const DOWNLOAD_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const DownloadIdParams = Type.Object({
  id: Type.String({ pattern: DOWNLOAD_ID_PATTERN, description: 'Download id (a UUID, lower case)' }),
});

export const DownloadLinks = Type.Object({
  self: Type.String({ description: 'This download' }),
  events: Type.String({ description: 'Its Server-Sent Events stream' }),
});

export const DownloadStateSchema = Type.Union(
  [Type.Literal('queued'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')],
  { description: 'queued: no flag started yet; running; completed; failed (the download as a whole)' },
);

export const DownloadAccepted = Type.Object({
  id: Type.String({ format: 'uuid' }),
  state: Type.Literal('queued'),
  total: Type.Integer({ minimum: 0, description: 'Flags requested' }),
  links: DownloadLinks,
});

export const DownloadStatusSchema = Type.Object({
  id: Type.String(),
  state: DownloadStateSchema,
  total: Type.Integer({ minimum: 0 }),
  done: Type.Integer({ minimum: 0, description: 'Flags with an outcome so far' }),
  saved: Type.Integer({ minimum: 0 }),
  notFound: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  elapsedSeconds: Type.Number({ minimum: 0, description: 'So far, or final once complete' }),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  message: Type.Optional(
    Type.String({ description: 'The report line once complete ("20 flags downloaded in 0.04s"), or why it failed' }),
  ),
  files: Type.Array(Type.String(), { description: 'Saved file names, in request order' }),
  outcomes: Type.Array(FlagOutcome, { description: 'One per flag decided so far, in request order' }),
  links: DownloadLinks,
});

export const ProgressEventData = Type.Object({
  done: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 0 }),
  saved: Type.Integer({ minimum: 0 }),
  notFound: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  outcomes: Type.Array(FlagOutcome, { description: 'Outcomes decided since the previous event' }),
});

export const EVENT_STREAM_DESCRIPTION = [
  'Server-Sent Events (text/event-stream). Events, each with JSON data:',
  '`status` (a download status, first), `progress` ({done, total, saved, notFound, failed, outcomes: new outcomes}),',
  'then `completed` or `failed` (the final download status, including the summary) and the stream ends.',
  'A finished download sends `status` and `completed` at once. Comment lines keep idle streams open.',
].join(' ');

export const FlagFileParams = Type.Object({
  file: Type.String({ minLength: 1, maxLength: 255, description: 'Saved file name, e.g. BR_Brazil.gif' }),
});

export const HealthResponse = Type.Object({ status: Type.String() });
