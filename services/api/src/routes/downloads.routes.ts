// /v1/downloads: submit a download, read its status, follow it live (SSE). Thin
// handlers: each calls one logic function from ../downloads.
import { DownloadRequest } from '@flagship/common';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DownloadEventHub } from '../downloads/download-events.ts';
import { followDownload } from '../downloads/download-events.ts';
import { getDownloadStatus } from '../downloads/download-status.ts';
import { submitDownload } from '../downloads/submit-download.ts';
import { problemResponses } from '../http/problem.ts';
import { DownloadAccepted, DownloadIdParams, DownloadStatusSchema, EVENT_STREAM_DESCRIPTION } from '../http/schemas.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';

export interface DownloadsRoutesOptions {
  queues: DownloadQueues;
  hub: DownloadEventHub;
  chunkSize: number;
  now?: () => number;
}

export const downloadsRoutes: FastifyPluginAsyncTypebox<DownloadsRoutesOptions> = async (app, options) => {
  const { queues, hub, chunkSize, now } = options;

  app.post(
    '/v1/downloads',
    {
      schema: {
        summary: 'Submit a download',
        description:
          'Codes are ISO 3166-1 alpha-2 in any case, upper-cased and de-duplicated. `"all": true` asks for every ' +
          'ISO code (codes the origin has no flag for come back NOT_FOUND). No body, or `{}`, downloads the ' +
          "reference program's 20 codes.",
        tags: ['downloads'],
        body: DownloadRequest,
        response: { 202: DownloadAccepted, ...problemResponses(400, 413, 415, 500, 503) },
      },
      // No body at all means the default download, like `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const accepted = await submitDownload(request.body, { queues, chunkSize });
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
        response: { 200: DownloadStatusSchema, ...problemResponses(400, 404, 500, 503) },
      },
    },
    (request) => getDownloadStatus(request.params.id, { queues, ...(now ? { now } : {}) }),
  );

  app.get(
    '/v1/downloads/:id/events',
    {
      // 'manual': no Accept negotiation (curl and EventSource both work), and nothing is
      // committed before the first event, so an unknown id still gets a 404 problem.
      sse: 'manual',
      schema: {
        summary: 'Follow a download live (Server-Sent Events)',
        description: EVENT_STREAM_DESCRIPTION,
        tags: ['downloads'],
        produces: ['text/event-stream'],
        params: DownloadIdParams,
        response: {
          200: { description: EVENT_STREAM_DESCRIPTION, content: { 'text/event-stream': { schema: Type.String() } } },
          ...problemResponses(400, 404, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const stream = await followDownload(request.params.id, { hub, queues, ...(now ? { now } : {}) });
      reply.sse.onClose(() => stream.close());
      for await (const { event, data } of stream) {
        if (!reply.sse.isConnected) break;
        await reply.sse.send({ event, data });
      }
    },
  );
};
