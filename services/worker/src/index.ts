// @flagship/worker: the BullMQ workers that download flags. main.ts runs them as a
// process; tests and benchmarks start them in-process through these exports.
export { loadConfig, WorkerEnvSchema, type WorkerConfig } from './config.ts';
export { createFlagWorkers, type FlagWorkers, type FlagWorkersOptions } from './flag-worker.ts';
export {
  createOriginDispatcher,
  ORIGIN_KEEP_ALIVE_MS,
  type OriginDispatcherOptions,
} from './flags/origin-dispatcher.ts';
export {
  backoffDelay,
  DEFAULT_FLAG_DEADLINE_MS,
  downloadFlag,
  MAX_COUNTRY_LENGTH,
  type DownloadFlagDeps,
} from './flags/download-flag.ts';
export { checkGif, checkMetadata } from './flags/flag-content.ts';
export { createDownloadPolicies, type DownloadPoliciesOptions } from './flags/download-policies.ts';
export {
  createRedisRateLimiter,
  rateLimitKey,
  type OriginRateLimiter,
  type RedisRateLimiterOptions,
} from './flags/origin-rate-limit.ts';
export {
  createRedisValidatorStore,
  validatorsKey,
  type FlagValidators,
  type ValidatorStore,
} from './flags/flag-validators.ts';
export { flagFileName, MAX_FLAG_FILE_NAME_BYTES } from './flags/flag-file-name.ts';
export { processChunk, type ProcessChunkOptions } from './flags/process-chunk.ts';
export { finishDownload, type FailedChunk, type FinishDownloadInput } from './downloads/finish-download.ts';
