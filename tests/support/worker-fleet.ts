// Several worker instances in this process, wired as main.ts wires one (each with its
// own Redis connection and origin dispatcher, so they share nothing but Redis, as
// separate processes would), on a fresh queue prefix, plus a producer that adds a
// download in the shape the API would and waits for its summary.
import { randomUUID } from 'node:crypto';
import { Contracts, QueueNames, buildDownloadJobs, type DownloadSummary, type FlagStore } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { closeAll, silentLogger, type Closer } from '@flagship/runtime';
import { createFlagWorkers, createOriginDispatcher, loadConfig } from '@flagship/worker';
import { FlowProducer, Queue, QueueEvents } from 'bullmq';
import type { Dispatcher } from 'undici';

export interface WorkerFleetOptions {
  redisUrl: string;
  originUrl: string;
  store: FlagStore;
  /** How many worker instances. */
  workers: number;
  /** Worker variables beyond ORIGIN_URL and a 5 ms retry delay, as strings like the real environment. */
  env?: Record<string, string>;
  /** Wraps a worker's origin dispatcher (to count what it sends, say). */
  wrapDispatcher?: (dispatcher: Dispatcher, worker: number) => Dispatcher;
}

export interface WorkerFleet {
  /** `{test-…}`: the queues' prefix, and so the prefix of the shared keys. */
  prefix: string;
  /** Adds a download (one job or a flow, as the API would) and resolves with its summary. */
  download(codes: readonly string[], options?: { chunkSize?: number }): Promise<DownloadSummary>;
  close(): Promise<void>;
}

export async function startWorkerFleet(options: WorkerFleetOptions): Promise<WorkerFleet> {
  const prefix = `{test-${randomUUID()}}`;
  const closers: Closer[] = [];
  const connections = [createRedisClient({ mode: 'standalone', url: options.redisUrl }, 'worker')];
  for (let worker = 0; worker < options.workers; worker++) {
    const config = loadConfig({ ORIGIN_URL: options.originUrl, RETRY_BASE_DELAY_MS: '5', ...options.env });
    const connection = createRedisClient({ mode: 'standalone', url: options.redisUrl }, 'worker');
    connections.push(connection);
    const agent = createOriginDispatcher(config.originPool);
    const workers = createFlagWorkers({
      config,
      connection,
      dispatcher: options.wrapDispatcher?.(agent, worker) ?? agent,
      store: options.store,
      logger: silentLogger(),
      prefix,
    });
    workers.run();
    await workers.waitUntilReady();
    closers.push(
      { name: `workers ${worker}`, close: () => workers.close() },
      { name: `dispatcher ${worker}`, close: () => agent.close() },
    );
  }
  const [producer] = connections as [(typeof connections)[0]];
  const flows = new FlowProducer({ connection: producer, prefix });
  const downloads = new Queue(QueueNames.downloads, { connection: producer, prefix });
  const eventsConnection = createRedisClient({ mode: 'standalone', url: options.redisUrl }, 'events');
  const events = new QueueEvents(QueueNames.downloads, { connection: eventsConnection, prefix });
  await events.waitUntilReady();
  closers.push(
    { name: 'producer', close: () => Promise.all([flows.close(), downloads.close(), events.close()]) },
    { name: 'redis', close: () => Promise.all([...connections, eventsConnection].map((c) => c.quit())) },
  );

  return {
    prefix,
    async download(codes, { chunkSize } = {}) {
      const jobs = buildDownloadJobs(randomUUID(), [...codes], { prefix, chunkSize });
      const job =
        jobs.shape === 'single'
          ? await downloads.add(jobs.name, jobs.data, jobs.opts)
          : (await flows.add(jobs.flow)).job;
      return Contracts.downloadSummary.parse(await job.waitUntilFinished(events));
    },
    close: () => closeAll(closers),
  };
}
