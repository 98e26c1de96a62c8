// The queue infrastructure's lifecycle inside Fastify: the event hub is built once
// for the app; on close, open event streams end first (preClose, so the HTTP server can
// finish their responses), then the hub detaches and the queues close (QueueEvents,
// FlowProducer, Queues). The Redis connections belong to the caller, closed after.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DownloadEventHub } from '../downloads/download-event-hub.ts';
import type { DownloadQueues } from '../queues/download-queues.ts';

export interface DownloadQueuesPluginOptions {
  queues: DownloadQueues;
  hub: DownloadEventHub;
}

async function downloadQueues(app: FastifyInstance, options: DownloadQueuesPluginOptions): Promise<void> {
  const { queues, hub } = options;
  app.addHook('preClose', async () => {
    hub.closeSubscriptions();
  });
  app.addHook('onClose', async () => {
    await hub.close();
    await queues.close();
  });
}

export const downloadQueuesPlugin = fp(downloadQueues, { name: 'flagship-download-queues', fastify: '5.x' });
