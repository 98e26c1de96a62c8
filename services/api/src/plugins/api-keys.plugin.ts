// API keys on every route that needs a scope (auth/route-scope.ts decides which, for
// routes added later too). The key comes as `Authorization: Bearer <key>` or as
// `X-API-Key: <key>`; under /admin/ also as HTTP Basic (any user name, the key as the
// password), because a browser can send nothing else to Bull Board's page and its own
// requests (see BASIC_PREFIX). No key, or an unknown one: 401 with WWW-Authenticate; a known key
// without the route's scope: 403; both problem+json through the error handler. With no
// keys configured the API is open and says so once, at start. A small plugin rather
// than @fastify/bearer-auth: that one knows keys but not scopes (it answers 401 for
// everything), and the X-API-Key header and problem+json answers would be added anyway.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { findApiKey, type ApiKey } from '../auth/api-keys.ts';
import { routeScope, type RouteScope } from '../auth/route-scope.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { problemResponses } from '../http/problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request authenticated with; undefined on public routes and when the API runs open. */
    apiKey: ApiKey | undefined;
  }
}

export interface ApiKeysPluginOptions {
  /** The configured keys (parseApiKeys); none: the API runs open. */
  keys: readonly ApiKey[];
}

const REALM = 'Bearer realm="flagship"';
const BASIC_REALM = 'Basic realm="flagship admin", charset="UTF-8"';
/**
 * Where a key may also come as HTTP Basic: Bull Board (/admin/queues) is a browser page
 * whose own requests carry no Authorization header, and Basic is what a browser asks for
 * and then resends by itself. Only here: a browser resends Basic credentials on
 * cross-site requests too, and what lives under /admin/ only reads (the board is
 * read-only; its change routes answer 405), so that cannot be used to change anything.
 */
export const BASIC_PREFIX = '/admin/';

/** The OpenAPI security schemes of the keys (app.ts declares them in the document). */
export const BEARER_SCHEME = 'apiKeyBearer';
export const HEADER_SCHEME = 'apiKeyHeader';
export const SECURITY_SCHEMES = {
  [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key> (API_KEYS)' },
  [HEADER_SCHEME]: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same key in X-API-Key' },
} as const;

/** The scope the request's route needs; undefined when no route matched (the 404 problem needs none). */
export function scopeOfRequest(request: FastifyRequest): RouteScope | undefined {
  const { url, config } = request.routeOptions;
  if (url === undefined) return undefined;
  return routeScope(request.method, url, config.scope);
}

function acceptsBasic(request: FastifyRequest): boolean {
  return request.routeOptions.url?.startsWith(BASIC_PREFIX) ?? false;
}

/** The password of a Basic credential ("user:password" in base64), or null when it is not one. */
function basicPassword(credential: string): string | null {
  const decoded = Buffer.from(credential, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/**
 * The key the client sent: '' when none, null when the Authorization header is not
 * "Bearer <key>" (or, where acceptsBasic, "Basic <user:key>").
 */
function presentedKey(request: FastifyRequest): string | null {
  const authorization = request.headers.authorization;
  if (authorization !== undefined && authorization !== '') {
    const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization)?.[1];
    if (basic !== undefined && acceptsBasic(request)) return basicPassword(basic);
    return /^Bearer +(\S+) *$/i.exec(authorization)?.[1] ?? null;
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : '';
}

/**
 * The 401 to throw, its challenges set on the reply (RFC 6750: the error code when a key
 * was sent). Under /admin/ a Basic challenge comes first, so a browser asks for the key.
 */
function unauthorized(
  request: FastifyRequest,
  reply: FastifyReply,
  detail: string,
  error?: 'invalid_request' | 'invalid_token',
) {
  const bearer = error === undefined ? REALM : `${REALM}, error="${error}"`;
  reply.header('www-authenticate', acceptsBasic(request) ? [BASIC_REALM, bearer] : bearer);
  return new UnauthorizedError(detail);
}

async function apiKeys(app: FastifyInstance, options: ApiKeysPluginOptions): Promise<void> {
  const { keys } = options;
  app.decorateRequest('apiKey', undefined);
  if (keys.length === 0) {
    app.log.warn(
      'API_KEYS is not set: the API is open, anyone who reaches it can submit and cancel downloads ' +
        '(set API_KEYS to name:key:scopes entries, see the README)',
    );
    return;
  }
  app.log.info({ keys: keys.map((key) => ({ name: key.name, scopes: [...key.scopes] })) }, 'API keys required');

  // The OpenAPI document (/docs) says which routes want a key, with their 401 and 403.
  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? (route.method[0] ?? 'GET') : route.method;
    const scope = routeScope(method, route.url, route.config?.scope);
    if (scope === 'public' || route.schema === undefined) return;
    route.schema.security = [{ [BEARER_SCHEME]: [] }, { [HEADER_SCHEME]: [] }];
    route.schema.response = { ...problemResponses(401, 403), ...(route.schema.response as object | undefined) };
    route.schema.description =
      `${route.schema.description ?? ''}\n\nNeeds an API key with the \`${scope}\` scope.`.trim();
  });

  app.addHook('onRequest', async (request, reply) => {
    const scope = scopeOfRequest(request);
    if (scope === undefined || scope === 'public') return;
    const presented = presentedKey(request);
    if (presented === null) {
      throw unauthorized(request, reply, 'the Authorization header must be "Bearer <key>"', 'invalid_request');
    }
    if (presented === '')
      throw unauthorized(request, reply, 'an API key is required: send "Authorization: Bearer <key>"');
    const key = findApiKey(keys, presented);
    if (key === undefined) throw unauthorized(request, reply, 'the API key is not valid', 'invalid_token');
    request.apiKey = key;
    if (!key.scopes.has(scope)) {
      throw new ForbiddenError(`the API key "${key.name}" does not have the ${scope} scope this route needs`);
    }
  });
}

export const apiKeysPlugin = fp(apiKeys, { name: 'flagship-api-keys', fastify: '5.x' });
