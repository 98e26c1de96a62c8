// The scope each route needs, decided once for every route, including routes added
// later that say nothing about it: an explicit `config: { scope }` on the route wins;
// otherwise anything under /admin/ and any path ending in /retry needs admin, GET and
// HEAD need read, DELETE needs admin, and other methods (POST, PUT, PATCH) need submit.
// Health, readiness and the API documentation are public.
import type { Scope } from './api-keys.ts';

/** What a route asks of the caller: a scope, or nothing at all ('public'). */
export type RouteScope = Scope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an API key needs for this route; see routeScope for the default. */
    scope?: RouteScope;
  }
}

/**
 * Open even when keys are configured: orchestrators probe these without credentials.
 * A future `/metrics` route decides for itself with `config: { scope: 'public' }` (or
 * stays `read`, the GET default); make that a setting if scrapers cannot send a key.
 */
export const PUBLIC_PATHS: readonly string[] = ['/healthz', '/readyz'];
/** The OpenAPI page and its assets (`/docs`, `/docs/json`, `/docs/static/…`). */
export const PUBLIC_PREFIXES: readonly string[] = ['/docs'];

function isPublicPath(url: string): boolean {
  return PUBLIC_PATHS.includes(url) || PUBLIC_PREFIXES.some((prefix) => url === prefix || url.startsWith(`${prefix}/`));
}

/** The scope of a route, from its method, its URL pattern (`/v1/downloads/:id`) and its config. */
export function routeScope(method: string, url: string, explicit?: RouteScope): RouteScope {
  if (explicit !== undefined) return explicit;
  if (url === '/admin' || url.startsWith('/admin/') || url.endsWith('/retry')) return 'admin';
  if (isPublicPath(url)) return 'public';
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
      return 'read';
    case 'DELETE':
      return 'admin';
    default:
      return 'submit';
  }
}
