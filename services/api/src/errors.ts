// The API's errors. Each carries the HTTP status and the stable `code` of the
// problem+json body it becomes (RFC 9457); the problem-details plugin does the mapping,
// so logic functions throw these without knowing about Fastify.
import { FlagshipError } from '@flagship/runtime';
import type { FieldError } from '@flagship/common';

export class ApiError extends FlagshipError {
  readonly status: number;
  readonly title: string;
  readonly errors: readonly FieldError[] | undefined;

  constructor(
    status: number,
    code: string,
    title: string,
    detail: string,
    options: { cause?: unknown; errors?: readonly FieldError[] } = {},
  ) {
    super(code, detail, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.errors = options.errors;
  }
}

export class InvalidRequestError extends ApiError {
  constructor(detail: string, errors: readonly FieldError[]) {
    super(400, 'FLAGSHIP_INVALID_REQUEST', 'Invalid request', detail, { errors });
    this.name = 'InvalidRequestError';
  }
}

export class DownloadNotFoundError extends ApiError {
  constructor(downloadId: string) {
    super(404, 'FLAGSHIP_DOWNLOAD_NOT_FOUND', 'Download not found', `no download with id ${downloadId}`);
    this.name = 'DownloadNotFoundError';
  }
}

/** The download existed and is past its retention (its tombstone is still kept). */
export class DownloadGoneError extends ApiError {
  constructor(downloadId: string) {
    super(
      410,
      'FLAGSHIP_DOWNLOAD_GONE',
      'Download gone',
      `download ${downloadId} finished longer ago than the retention keeps downloads`,
    );
    this.name = 'DownloadGoneError';
  }
}

/** A retry that cannot be made: the download is not finished, or no flag of it needs another try. */
export class RetryConflictError extends ApiError {
  constructor(detail: string) {
    super(409, 'FLAGSHIP_NOTHING_TO_RETRY', 'Nothing to retry', detail);
    this.name = 'RetryConflictError';
  }
}

/** An Idempotency-Key used before with another request body. */
export class IdempotencyKeyReusedError extends ApiError {
  constructor() {
    super(
      422,
      'FLAGSHIP_IDEMPOTENCY_KEY_REUSED',
      'Idempotency-Key reused',
      'this Idempotency-Key was used with another request body; use a new key for a new download',
    );
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** The first request with this Idempotency-Key is still being processed. */
export class IdempotencyKeyInProgressError extends ApiError {
  constructor() {
    super(
      409,
      'FLAGSHIP_IDEMPOTENCY_KEY_IN_PROGRESS',
      'Request in progress',
      'a request with this Idempotency-Key is still being processed; retry it in a moment',
    );
    this.name = 'IdempotencyKeyInProgressError';
  }
}

export class FlagNotFoundError extends ApiError {
  constructor(fileName: string) {
    super(404, 'FLAGSHIP_FLAG_NOT_FOUND', 'Flag not found', `no saved flag named ${JSON.stringify(fileName)}`);
    this.name = 'FlagNotFoundError';
  }
}

/** Redis did not answer (down, unreachable, or slower than the request timeout). */
export class QueueUnavailableError extends ApiError {
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super(503, 'FLAGSHIP_QUEUE_UNAVAILABLE', 'Queue unavailable', detail, options);
    this.name = 'QueueUnavailableError';
  }
}

/** No API key, or one the API does not know (the 401 also carries WWW-Authenticate). */
export class UnauthorizedError extends ApiError {
  constructor(detail: string) {
    super(401, 'FLAGSHIP_UNAUTHORIZED', 'Unauthorized', detail);
    this.name = 'UnauthorizedError';
  }
}

/** A known API key without the scope the route needs. */
export class ForbiddenError extends ApiError {
  constructor(detail: string) {
    super(403, 'FLAGSHIP_FORBIDDEN', 'Forbidden', detail);
    this.name = 'ForbiddenError';
  }
}

/** More requests in the window than RATE_LIMIT_MAX (the 429 also carries Retry-After). */
export class RateLimitedError extends ApiError {
  constructor(detail: string) {
    super(429, 'FLAGSHIP_RATE_LIMITED', 'Too many requests', detail);
    this.name = 'RateLimitedError';
  }
}
