// @flagship/common: the flag domain every Flagship service shares: contracts (TypeBox
// schemas of HTTP bodies, job data and results), the shape of a download in BullMQ
// (queue names, key layout, one job or a flow), country codes, summaries, the flag
// store, and the schema-based environment loader. The only entry point. What is not
// about flags (errors, logger, shutdown, timeouts) is in @flagship/runtime.
//
// Loading it loads TypeBox, env-schema and the country tables, but no Redis client and
// no BullMQ: those are type imports here, so the CLI and the origin stay without them.
// The Redis connection factory, which loads ioredis, is the separate entry point
// `@flagship/common/redis` (redis-client.ts), for the API and the workers.
export {
  LogLevelSchema,
  loadEnv,
  observabilityConfig,
  observabilityEnvSchema,
  type ObservabilityConfig,
} from './config.ts';
export { serviceConfig, serviceEnvSchema, type ServiceConfig, type ServiceEnv } from './service-config.ts';
export { COUNTRY_CODES, REFERENCE_CODES, isCountryCode, normalizeCodes } from './countries.ts';
export {
  JobNames,
  QUEUE_PREFIX,
  QueueNames,
  chunkJobId,
  chunkJobIdOfKey,
  downloadIdOfChunkJob,
  jobKey,
  redisOptions,
  type QueueName,
  type RedisRole,
} from './queues.ts';
export { QUEUE_TRACER_NAME, createQueueTelemetry } from './queue-telemetry.ts';
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
  UnsafeFileNameError,
  createLocalFlagStore,
  isSafeFileName,
  type FileInfo,
  type FlagStore,
  type SaveResult,
  type StoredFile,
} from './flag-store.ts';
export { openFlagStore, type OpenedFlagStore } from './flag-store-factory.ts';
export {
  FlagStoreEnvSchema,
  describeFlagStore,
  flagStoreConfig,
  type FlagStoreConfig,
  type FlagStoreEnv,
  type S3StoreSettings,
} from './store-config.ts';
export {
  DEFAULT_CHUNK_SIZE,
  buildDownloadFlow,
  retentionOfJob,
  splitIntoChunks,
  type DownloadFlowOptions,
} from './flow.ts';
export {
  DEFAULT_RETENTION,
  DOWNLOAD_STATES,
  NO_COUNTS,
  TOMBSTONES_KEPT,
  downloadIndex,
  downloadIndexKeys,
  downloadRecordFields,
  parseDownloadRecord,
  type DownloadCounts,
  type DownloadIndex,
  type DownloadPage,
  type DownloadRecord,
  type FinishedDownload,
  type FinishedState,
  type ListPosition,
  type PageQuery,
  type Retention,
  type SubmittedDownload,
} from './download-index.ts';
export { redisScript, type RedisScript } from './redis-script.ts';
export {
  DEFAULT_REDIS_URL,
  RedisEnvSchema,
  describeRedisEndpoint,
  parseHostList,
  redisEndpointFromEnv,
  type ClusterEndpoint,
  type HostPort,
  type RedisClient,
  type RedisEndpoint,
  type RedisEnv,
  type SentinelEndpoint,
  type StandaloneEndpoint,
} from './redis-endpoint.ts';
export {
  DownloadShape,
  buildDownloadJobs,
  downloadShape,
  shapeOfDownloadJob,
  singleJobChunk,
  type DownloadJobs,
} from './flow.ts';
export {
  DOWNLOAD_EVENTS_DESCRIPTION,
  DOWNLOAD_ID_PATTERN,
  DownloadAccepted,
  DownloadEvent,
  DownloadIdParams,
  DownloadLinks,
  DownloadList,
  DownloadListItem,
  DownloadListQuery,
  DownloadProgress,
  DownloadState,
  DownloadStatus,
  FieldError,
  FlagFileParams,
  HealthStatus,
  HttpContracts,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  MAX_LIST_LIMIT,
  PROBLEM_CONTENT_TYPE,
  Problem,
  RetryQuery,
  SubmitDownloadHeaders,
} from './http-api.ts';
export {
  CANCELLED_EVENT,
  CANCELLED_MARK_TTL_MS,
  DOWNLOAD_CANCELLED_REASON,
  cancelChannel,
  cancelledKey,
} from './cancellation.ts';
