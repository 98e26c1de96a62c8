// @flagship/worker: the BullMQ workers that download flags. main.ts runs them as a
// process; tests and benchmarks start them in-process through these exports.
export { loadConfig, WorkerEnvSchema, type WorkerConfig } from './config.ts';
export { createFlagWorkers, type FlagWorkers, type FlagWorkersOptions } from './flag-worker.ts';
export { createHealthServer, type HealthReport } from './health-server.ts';
export { createWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.ts';
export {
  createOriginDispatcher,
  ORIGIN_KEEP_ALIVE_MS,
  type OriginDispatcherOptions,
} from './flags/origin-dispatcher.ts';
export { backoffDelay, downloadFlag, MAX_COUNTRY_LENGTH, type DownloadFlagDeps } from './flags/download-flag.ts';
export { flagFileName, MAX_FLAG_FILE_NAME_BYTES } from './flags/flag-file-name.ts';
export { processChunk, type ProcessChunkOptions } from './flags/process-chunk.ts';
export { finishDownload, type FailedChunk, type FinishDownloadInput } from './downloads/finish-download.ts';
