// Every error as application/problem+json (RFC 9457): validation failures, malformed
// JSON, wrong media types, oversized bodies, unknown routes, Redis outages and bugs.
// No maintained Fastify plugin does this for Fastify 5, so it is this one plugin: an
// error handler, a not-found handler, and a JSON parser that reads an empty body as
// "no body" (so `POST /v1/downloads` with `Content-Type: application/json` and nothing
// else means the default download, as an empty object does). Bodies are JSON only.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PROBLEM_CONTENT_TYPE, type FieldError, type Problem } from '@flagship/common';
import { ApiError } from '../errors.ts';
import { problemType } from '../http/problem.ts';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Fastify's own errors that are the client's fault, with a clearer detail than Fastify's message. */
const FASTIFY_CLIENT_ERRORS: Record<string, { title: string; detail?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { title: 'Malformed JSON', detail: 'the request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { title: 'Malformed JSON', detail: 'the request body is empty' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { title: 'Bad request' },
  FST_ERR_CTP_BODY_TOO_LARGE: { title: 'Request body too large' },
  // Raised by the router, before any route or hook: see problemFrameworkErrors.
  FST_ERR_BAD_URL: { title: 'Bad request', detail: 'the URL is not valid (a malformed percent-encoding)' },
  FST_ERR_MAX_PARAM_LENGTH: { title: 'URI Too Long', detail: 'a path parameter is longer than the API accepts' },
};

export function validationErrors(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body';
  const issues = (error.validation ?? []) as ValidationIssue[];
  return issues
    .filter((issue) => issue.keyword !== 'boolean') // TypeBox repeats additionalProperties as "schema is false"
    .map((issue) => {
      const extra = issue.params?.additionalProperties;
      const field = Array.isArray(extra) && extra.length > 0 ? `${issue.instancePath ?? ''}/${extra.join(',')}` : '';
      return {
        field: `/${context}${field || issue.instancePath || ''}`,
        reason: issue.message ?? 'is invalid',
      };
    });
}

function toProblem(error: FastifyError | ApiError, instance: string): Problem {
  if (error instanceof ApiError) {
    return {
      type: problemType(error.code),
      title: error.title,
      status: error.status,
      detail: error.message,
      instance,
      code: error.code,
      ...(error.errors ? { errors: [...error.errors] } : {}),
    };
  }
  if (error.validation) {
    const errors = validationErrors(error);
    return {
      type: problemType('FLAGSHIP_VALIDATION'),
      title: 'Invalid request',
      status: 400,
      detail: errors.map((e) => `${e.field} ${e.reason}`).join('; ') || error.message,
      instance,
      code: 'FLAGSHIP_VALIDATION',
      errors,
    };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const known = FASTIFY_CLIENT_ERRORS[error.code];
    const code = error.code ?? `HTTP_${status}`;
    return {
      type: known ? problemType(code) : 'about:blank',
      title: known?.title ?? STATUS_CODES[status] ?? 'Client error',
      status,
      detail: known?.detail ?? error.message,
      instance,
      code,
    };
  }
  return {
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
    detail: 'the server failed to handle this request; it has been logged',
    instance,
    code: 'FLAGSHIP_INTERNAL',
  };
}

function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 503) reply.header('retry-after', '5');
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

function instanceOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url;
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route or
 * hook runs (a URL with a malformed percent-encoding, an over-long path parameter),
 * which setErrorHandler never sees, answered as problems too.
 */
export function problemFrameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendProblem(reply, toProblem(error, instanceOf(request)));
}

async function problemDetails(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error, instanceOf(request));
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, detail: problem.detail }, 'request refused');
    return sendProblem(reply, problem);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: `no route for ${request.method} ${instanceOf(request)}`,
      instance: instanceOf(request),
      code: 'FLAGSHIP_ROUTE_NOT_FOUND',
    }),
  );

  // Bodies are JSON or nothing: anything else is a 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

export const problemDetailsPlugin = fp(problemDetails, { name: 'flagship-problem-details', fastify: '5.x' });
