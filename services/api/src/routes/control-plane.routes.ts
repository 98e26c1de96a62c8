// The control plane of /v1/downloads: list the downloads (newest first, paged, by state)
// and retry the flags of a finished one. Thin handlers over ../downloads; every shape is
// the public API's, from @flagship/common.
import {
  DownloadAccepted,
  DownloadIdParams,
  DownloadList,
  DownloadListQuery,
  RetryQuery,
  type Retention,
} from '@flagship/common';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Value } from 'typebox/value';
import { listDownloads } from '../downloads/list-downloads.ts';
import { retryDownload } from '../downloads/retry-download.ts';
import { problemResponses } from '../http/problem.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';

export interface ControlPlaneRoutesOptions {
  queues: DownloadQueues;
  chunkSize: number;
  /** Given to each download's jobs. Default DEFAULT_RETENTION. */
  retention?: Retention;
  now?: () => number;
}

export const controlPlaneRoutes: FastifyPluginAsyncTypebox<ControlPlaneRoutesOptions> = async (app, options) => {
  const { queues, chunkSize } = options;

  app.get(
    '/v1/downloads',
    {
      schema: {
        summary: 'List downloads, newest first',
        description:
          'A page of download summaries (no per-flag outcomes), newest first, optionally of one `state`. Pass ' +
          '`nextCursor` back as `cursor` for the next page (null on the last): a walk sees every download that ' +
          'existed when it started exactly once, however many are submitted meanwhile. Finished downloads are ' +
          'kept for DOWNLOAD_RETENTION_S and at most DOWNLOAD_RETENTION_COUNT of them.',
        tags: ['downloads'],
        querystring: DownloadListQuery,
        response: { 200: DownloadList, ...problemResponses(400, 500, 503) },
      },
      // TypeBox's validator converts query strings but fills no defaults: the schema's limit default, here.
      preValidation: async (request) => {
        request.query = Value.Default(DownloadListQuery, request.query ?? {}) as typeof request.query;
      },
    },
    (request) => listDownloads(request.query, { index: queues.index }),
  );

  app.post(
    '/v1/downloads/:id/retry',
    {
      schema: {
        summary: "Download a finished download's failed flags again",
        description:
          'A new download of the flags that ended ERROR (and NOT_FOUND with `?include=not_found`; flags a failed ' +
          'or cancelled download never decided are retried too), with `retryOf` naming this one. 409 when the ' +
          'download is not finished or has nothing to retry.',
        tags: ['downloads'],
        params: DownloadIdParams,
        querystring: RetryQuery,
        response: { 202: DownloadAccepted, ...problemResponses(400, 404, 409, 410, 500, 503) },
      },
    },
    async (request, reply) => {
      const accepted = await retryDownload(request.params.id, request.query, {
        queues,
        chunkSize,
        ...(options.retention ? { retention: options.retention } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      return reply.code(202).header('location', accepted.links.self).send(accepted);
    },
  );
};
