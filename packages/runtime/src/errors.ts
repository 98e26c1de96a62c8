// The base error of every Flagship package: a stable machine-readable `code`, a
// human `message`, and the underlying `cause` kept for logs (undici and
// @fastify/error use the same shape). Errors of the flag domain extend it in
// @flagship/common; the API's HTTP errors in services/api.

export class FlagshipError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlagshipError';
    this.code = code;
  }
}

/** Thrown at start-up when an environment variable is missing or malformed. */
export class ConfigError extends FlagshipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLAGSHIP_CONFIG', message, options);
    this.name = 'ConfigError';
  }
}
