// /v1/downloads: submit a download, read its status, follow it live (SSE), cancel it. Thin
// handlers: each calls one logic function from ../downloads. Every body and event is
// serialized with its schema from the public API's shapes in @flagship/common.
import {
  DOWNLOAD_EVENTS_DESCRIPTION,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  DownloadAccepted,
  DownloadEvent,
  DownloadIdParams,
  DownloadProgress,
  DownloadRequest,
  DownloadStatus,
  SubmitDownloadHeaders,
  type Retention,
} from '@flagship/common';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { cancelDownload } from '../downloads/cancel-download.ts';
import type { DownloadEventHub } from '../downloads/download-event-hub.ts';
import { followDownload } from '../downloads/follow-download.ts';
import { getDownloadStatus } from '../downloads/download-status.ts';
import { acceptDownload } from '../downloads/idempotency.ts';
import { problemResponses } from '../http/problem.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';

/** The schema each event's data is serialized with, as a JSON response is with its response schema. */
const EVENT_DATA_SCHEMAS: Record<DownloadEvent['event'], object> = {
  status: DownloadStatus,
  progress: DownloadProgress,
  completed: DownloadStatus,
  failed: DownloadStatus,
  cancelled: DownloadStatus,
};

/** The handler hands @fastify/sse data it has already serialized. */
const alreadySerialized = (data: string): string => data;

export interface DownloadsRoutesOptions {
  queues: DownloadQueues;
  hub: DownloadEventHub;
  chunkSize: number;
  /** Given to each download's jobs. Default DEFAULT_RETENTION. */
  retention?: Retention;
  /** How long an Idempotency-Key is remembered. Default 86,400 s. */
  idempotencyTtlSeconds?: number;
  now?: () => number;
}

export const downloadsRoutes: FastifyPluginAsyncTypebox<DownloadsRoutesOptions> = async (app, options) => {
  const { queues, hub, chunkSize, now } = options;
  const submitDeps = {
    queues,
    chunkSize,
    idempotencyTtlSeconds: options.idempotencyTtlSeconds ?? 86_400,
    ...(options.retention ? { retention: options.retention } : {}),
    ...(now ? { now } : {}),
  };

  app.post(
    '/v1/downloads',
    {
      schema: {
        summary: 'Submit a download',
        description:
          'Codes are ISO 3166-1 alpha-2 in any case, upper-cased and de-duplicated. `"all": true` asks for every ' +
          'ISO code (codes the origin has no flag for come back NOT_FOUND). No body, or `{}`, downloads the ' +
          "reference program's 20 codes. With an `Idempotency-Key` header, the same key and body answer the " +
          'download the key created before (`replayed: true`, header `Idempotent-Replayed: true`); another body ' +
          'is 422; while the first request with the key is still adding its download, 409.',
        tags: ['downloads'],
        headers: SubmitDownloadHeaders,
        body: DownloadRequest,
        response: { 202: DownloadAccepted, ...problemResponses(400, 409, 413, 415, 422, 500, 503) },
      },
      // No body at all means the default download, like `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { accepted, replayed } = await acceptDownload(
        request.body,
        request.headers[IDEMPOTENCY_KEY_HEADER],
        submitDeps,
      );
      if (replayed) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return reply.code(202).header('location', accepted.links.self).send(accepted);
    },
  );

  app.get(
    '/v1/downloads/:id',
    {
      schema: {
        summary: "A download's state, counts and per-flag outcomes",
        tags: ['downloads'],
        params: DownloadIdParams,
        response: { 200: DownloadStatus, ...problemResponses(400, 404, 410, 500, 503) },
      },
    },
    (request) => getDownloadStatus(request.params.id, { queues, ...(now ? { now } : {}) }),
  );

  app.delete(
    '/v1/downloads/:id',
    {
      schema: {
        summary: 'Cancel a download',
        description:
          'Stops the download on every worker: queued chunks are removed, running ones stop within about a ' +
          'second (their origin requests are aborted, no new flag starts). Flags already saved stay and are ' +
          'listed. Answers the status, `cancelled`, with the counts so far; the event stream sends `cancelled` ' +
          'and ends. Cancelling again answers the same. A download that already completed or failed: 409; one past ' +
          'its retention: 410.',
        tags: ['downloads'],
        params: DownloadIdParams,
        response: { 202: DownloadStatus, ...problemResponses(400, 404, 409, 410, 500, 503) },
      },
    },
    async (request, reply) => {
      const status = await cancelDownload(request.params.id, {
        queues,
        logger: request.log,
        ...(options.retention ? { retention: options.retention } : {}),
        ...(now ? { now } : {}),
      });
      return reply.code(202).send(status);
    },
  );

  app.get(
    '/v1/downloads/:id/events',
    {
      // 'manual': no Accept negotiation (curl and EventSource both work), and nothing is
      // committed before the first event, so an unknown id still gets a 404 problem.
      sse: { kind: 'manual', serializer: alreadySerialized },
      schema: {
        summary: 'Follow a download live (Server-Sent Events)',
        description: DOWNLOAD_EVENTS_DESCRIPTION,
        tags: ['downloads'],
        produces: ['text/event-stream'],
        params: DownloadIdParams,
        response: {
          // The schema of one event, each framed as `event: <name>` and `data: <JSON>`.
          200: {
            description: DOWNLOAD_EVENTS_DESCRIPTION,
            content: { 'text/event-stream': { schema: DownloadEvent } },
          },
          ...problemResponses(400, 404, 410, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      const stream = await followDownload(request.params.id, {
        hub,
        queues,
        ...(now ? { now } : {}),
        ...(typeof lastEventId === 'string' ? { lastEventId } : {}),
      });
      reply.sse.onClose(() => stream.close());
      for await (const { id, event, data } of stream) {
        if (!reply.sse.isConnected) break;
        await reply.sse.send({
          id,
          event,
          data: reply.serializeInput(data, EVENT_DATA_SCHEMAS[event] as Record<string, unknown>),
        });
      }
    },
  );
};
