// @flagship/api: build the HTTP API in process (main.ts, tests/ and bench/ use this).
export { buildApp, type ApiDeps, type AppConfig } from './app.ts';
export { ApiEnvSchema, loadConfig, type ApiConfig } from './config.ts';
export {
  createBullmqDownloadQueues,
  isConnectionError,
  type BullmqDownloadQueuesOptions,
} from './queues/bullmq-download-queues.ts';
export type {
  ChunkSnapshot,
  DownloadEventFeed,
  DownloadQueues,
  DownloadSnapshot,
  EventSourceLike,
} from './queues/download-queues.ts';
export { toDownloadStatus } from './downloads/download-status.ts';
export { resolveCodes } from './downloads/submit-download.ts';
export { ApiError, DownloadNotFoundError, InvalidRequestError, QueueUnavailableError } from './errors.ts';
