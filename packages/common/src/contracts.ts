// The data that crosses a process boundary, as TypeBox schemas: HTTP bodies (checked
// by Fastify), job data and results (checked by the worker and the API, since Redis is
// a trust boundary). Types are derived from the schemas, never written twice.
import { Type, type Static, type TProperties, type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { FlagshipError } from '@flagship/runtime';

/** Upper bound on the codes of one download: every alpha-2 code fits. */
export const MAX_CODES_PER_DOWNLOAD = 300;

export const CountryCode = Type.String({
  pattern: '^[A-Z]{2}$',
  description: 'ISO 3166-1 alpha-2 country code, upper case',
});

/** What a client may send: codes in any case (validated against the ISO list by the API). */
export const DownloadRequest = Type.Object(
  {
    codes: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 code, any case' }), {
        minItems: 1,
        maxItems: MAX_CODES_PER_DOWNLOAD,
        description: "Country codes to download; default: the reference program's 20 codes",
      }),
    ),
    all: Type.Optional(Type.Boolean({ description: 'Download every country (cannot be combined with codes)' })),
  },
  { additionalProperties: false },
);
export type DownloadRequest = Static<typeof DownloadRequest>;

export const FlagStatus = {
  OK: 'OK',
  NOT_FOUND: 'NOT_FOUND',
  ERROR: 'ERROR',
} as const;
export type FlagStatus = (typeof FlagStatus)[keyof typeof FlagStatus];

export const FlagOutcome = Type.Object({
  code: CountryCode,
  status: Type.Union([Type.Literal('OK'), Type.Literal('NOT_FOUND'), Type.Literal('ERROR')]),
  /** Country name as the origin's metadata.json gave it (OK only). */
  country: Type.Optional(Type.String()),
  /** Saved file name inside the downloads store (OK only). */
  file: Type.Optional(Type.String()),
  /** Size of the saved GIF in bytes (OK only). */
  bytes: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Why the flag was not saved (NOT_FOUND and ERROR). */
  reason: Type.Optional(Type.String()),
  /** HTTP attempts made for this flag (1 when no retry was needed). */
  attempts: Type.Integer({ minimum: 0 }),
  /** OK only: the origin answered 304 to a conditional GET; no GIF body came, nothing was written. */
  unchanged: Type.Optional(Type.Boolean()),
  /** OK only, when the GIF was redirected: the URL its bytes (or its 304) came from. */
  finalUrl: Type.Optional(Type.String({ maxLength: 2_048 })),
});
export type FlagOutcome = Static<typeof FlagOutcome>;

/** Download job (queue `downloads`): the whole request. */
export const DownloadJobData = Type.Object({
  codes: Type.Array(CountryCode, { minItems: 1, maxItems: MAX_CODES_PER_DOWNLOAD }),
  /**
   * true: a download that fits one chunk, added as this one job without children; the
   * download worker downloads its codes itself (buildDownloadJobs in flow.ts).
   * Absent: the parent of a flow, run once its chunk children are done.
   */
  inline: Type.Optional(Type.Literal(true)),
  /** The download this one retries (POST /v1/downloads/:id/retry): its status says so. */
  retryOf: Type.Optional(Type.String({ minLength: 1 })),
});
export type DownloadJobData = Static<typeof DownloadJobData>;

/** Child job (queue `flags`): one chunk of a download's codes. */
export const ChunkJobData = Type.Object({
  downloadId: Type.String({ minLength: 1 }),
  chunk: Type.Integer({ minimum: 0 }),
  codes: Type.Array(CountryCode, { minItems: 1, maxItems: MAX_CODES_PER_DOWNLOAD }),
});
export type ChunkJobData = Static<typeof ChunkJobData>;

/**
 * A chunk job's progress (`job.updateProgress`), cumulative: the outcomes decided so
 * far. A retried chunk reads it back and skips the flags already saved.
 */
export const ChunkProgress = Type.Object({
  downloadId: Type.String(),
  chunk: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 0 }),
  outcomes: Type.Array(FlagOutcome),
});
export type ChunkProgress = Static<typeof ChunkProgress>;

/** A chunk job's return value: one outcome per code of the chunk. */
export const ChunkResult = Type.Object({
  downloadId: Type.String(),
  chunk: Type.Integer({ minimum: 0 }),
  outcomes: Type.Array(FlagOutcome),
});
export type ChunkResult = Static<typeof ChunkResult>;

/** The parent job's return value: the reference program's report, and more. */
export const DownloadSummary = Type.Object({
  total: Type.Integer({ minimum: 0 }),
  saved: Type.Integer({ minimum: 0 }),
  notFound: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  elapsedSeconds: Type.Number({ minimum: 0, description: 'From the request being accepted to the last flag' }),
  /** Saved file names, in request order. */
  files: Type.Array(Type.String()),
  /** One outcome per requested code, in request order. */
  outcomes: Type.Array(FlagOutcome),
  /** The reference's report line, e.g. "20 flags downloaded in 0.04s". */
  message: Type.String(),
});
export type DownloadSummary = Static<typeof DownloadSummary>;

/** Raised when data read from Redis or the network does not match its contract. */
export class ContractError extends FlagshipError {
  readonly errors: readonly string[];

  constructor(what: string, errors: readonly string[]) {
    super('FLAGSHIP_CONTRACT', `invalid ${what}: ${errors.join('; ')}`);
    this.name = 'ContractError';
    this.errors = errors;
  }
}

/**
 * A checker for one schema, compiled once, on first use: `parse(value)` returns the
 * value typed, or throws a ContractError that lists each failing path. Not compiled at
 * import: a process that imports the package but never checks a contract skips the
 * work and the generated code (about 0.3 MB of heap for all five; the typebox/compile
 * module itself, about 5.7 MB, is still loaded by the main entry).
 */
export function contract<S extends TSchema>(
  what: string,
  schema: S,
): { parse(value: unknown): Static<S>; check(value: unknown): value is Static<S> } {
  let compiled: Validator<TProperties, S> | undefined;
  const validator = (): Validator<TProperties, S> => (compiled ??= Compile(schema));
  return {
    check: (value: unknown): value is Static<S> => validator().Check(value),
    parse(value: unknown): Static<S> {
      if (validator().Check(value)) return value as Static<S>;
      const errors = [...validator().Errors(value)].slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`);
      throw new ContractError(what, errors);
    },
  };
}

export const Contracts = {
  downloadJobData: contract('download job data', DownloadJobData),
  chunkJobData: contract('chunk job data', ChunkJobData),
  chunkProgress: contract('chunk progress', ChunkProgress),
  chunkResult: contract('chunk result', ChunkResult),
  downloadSummary: contract('download summary', DownloadSummary),
} as const;
