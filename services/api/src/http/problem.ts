// Helpers around RFC 9457 problem details, the one shape of every error response (the
// Problem schema itself is part of the public API in @flagship/common): the stable type
// URI of a problem, and the response schemas a route documents for its error statuses.
import { Problem } from '@flagship/common';

/** Problem type URIs are stable names, not documents to fetch. */
export function problemType(code: string): string {
  return `urn:flagship:problem:${code
    .replace(/^FLAGSHIP_|^FST_ERR_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

/** Response schemas for the error statuses a route can return. */
export function problemResponses(...statuses: number[]): Record<number, typeof Problem> {
  return Object.fromEntries(statuses.map((status) => [status, Problem]));
}
