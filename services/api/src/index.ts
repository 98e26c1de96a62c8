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
export { DownloadState, toDownloadStatus, type DownloadStatus } from './downloads/download-status.ts';
export type { DownloadEvent, ProgressData } from './downloads/download-events.ts';
export { resolveCodes, type AcceptedDownload } from './downloads/submit-download.ts';
export {
  ApiError,
  DownloadNotFoundError,
  InvalidRequestError,
  QueueUnavailableError,
  type FieldError,
} from './errors.ts';
export { PROBLEM_CONTENT_TYPE, type Problem } from './http/problem.ts';
