// @flagship/origin: a flupy.org-compatible flags origin (generator, server, config).
export { createOriginServer, matchesIfNoneMatch, type FlagRequest, type OriginServerOptions } from './origin-server.ts';
export { DEFAULT_DATA_DIR, loadConfig, type OriginConfig } from './config.ts';
export { generateFlags, type GenerateFlagsOptions, type GenerateFlagsResult } from './generate-flags.ts';
export {
  FlagDataError,
  loadFlagDataSet,
  type FlagDataSet,
  type FlagEntry,
  type FlagMetadata,
  type ServedFile,
} from './flag-data.ts';
export {
  FaultOptionsError,
  MAX_DELAY_MS,
  createFaultPlan,
  type FaultDecision,
  type FaultOptions,
  type FaultPlan,
} from './faults.ts';
