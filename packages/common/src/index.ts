// @flagship/common: the contracts every Flagship service shares. The only entry point.
export { ConfigError, FlagshipError, UnsafeFileNameError } from './errors.ts';
export { loadConfigOrReport } from './startup.ts';
export { LogLevelSchema, loadEnv } from './config.ts';
export { LOG_LEVELS, createLogger, silentLogger, type LogLevel, type Logger, type LoggerOptions } from './logger.ts';
export { closeAll, once, type Closer, type CloseAllOptions } from './shutdown.ts';
export { COUNTRY_CODES, REFERENCE_CODES, isCountryCode, normalizeCodes } from './countries.ts';
export {
  JobNames,
  QUEUE_PREFIX,
  QueueNames,
  chunkJobId,
  createRedisConnection,
  downloadIdOfChunkJob,
  redisOptions,
  type RedisRole,
} from './queues.ts';
export {
  ChunkJobData,
  ChunkProgress,
  ChunkResult,
  ContractError,
  Contracts,
  CountryCode,
  DownloadJobData,
  DownloadRequest,
  DownloadSummary,
  FlagOutcome,
  FlagStatus,
  MAX_CODES_PER_DOWNLOAD,
  contract,
} from './contracts.ts';
export { countOutcomes, reportLine, summarize, type OutcomeCounts } from './summary.ts';
export {
  MAX_FILE_NAME_BYTES,
  createLocalFlagStore,
  isSafeFileName,
  type FlagStore,
  type SaveResult,
  type StoredFile,
} from './flag-store.ts';
export { DEFAULT_CHUNK_SIZE, buildDownloadFlow, splitIntoChunks, type DownloadFlowOptions } from './flow.ts';
export { DownloadShape, buildDownloadJobs, downloadShape, type DownloadJobs } from './flow.ts';
export {
  DOWNLOAD_EVENTS_DESCRIPTION,
  DOWNLOAD_ID_PATTERN,
  DownloadAccepted,
  DownloadEvent,
  DownloadIdParams,
  DownloadLinks,
  DownloadProgress,
  DownloadState,
  DownloadStatus,
  FieldError,
  FlagFileParams,
  HealthStatus,
  HttpContracts,
  PROBLEM_CONTENT_TYPE,
  Problem,
} from './http-api.ts';
