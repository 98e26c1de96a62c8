// RFC 9457 problem details: the one shape of every error response, as a TypeBox schema
// (documented in OpenAPI and used to serialize error replies) and the media type.
import { Type, type Static } from 'typebox';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const FieldErrorSchema = Type.Object({
  field: Type.String({ description: 'JSON pointer to the offending value, e.g. /body/codes/3' }),
  reason: Type.String(),
});

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URI reference naming the problem type' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    instance: Type.String({ description: 'The request path' }),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'Validation failures, one per field' })),
  },
  { description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof Problem>;

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
