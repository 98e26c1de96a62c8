// Health for orchestrators: /healthz says the process answers, /readyz that Redis does
// (a PING within the request timeout, else a 503 problem), so compose and load
// balancers only send work to an API that can enqueue it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthStatus } from '@flagship/common';
import { problemResponses } from '../http/problem.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';

export interface HealthRoutesOptions {
  queues: Pick<DownloadQueues, 'ping'>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, options) => {
  app.get(
    '/healthz',
    { schema: { summary: 'The process is alive', tags: ['health'], response: { 200: HealthStatus } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Redis answers: the API can take downloads',
        tags: ['health'],
        response: { 200: HealthStatus, ...problemResponses(503) },
      },
    },
    async () => {
      await options.queues.ping();
      return { status: 'ready' };
    },
  );
};
