// The dashboard at /: a page, a stylesheet and a small ES module (services/api/src/dashboard),
// served as they are, with no framework and no build step. It uses only the public API
// (submit, status, events, list, cancel, flags), the same as any other client. Each file
// gets its own route (wildcard off), so no catch-all route sits at / and unknown paths
// still get the problem+json 404. The routes are hidden from the OpenAPI document.
// The files are public even when the API has keys: the page holds no data, and it is
// where the user gives a key (kept in the tab, sent as a Bearer header by the page's
// fetches, event stream and images included; see docs/architecture.md).
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

/** Everything the page loads comes from the API itself: no inline script or style, no third party. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // Flags are fetched with the key and shown from blob: URLs (an <img src> cannot send it).
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Registered without fastify-plugin: @fastify/static's decorators stay inside this scope. */
export async function dashboardPlugin(app: FastifyInstance): Promise<void> {
  // Every route of this scope (the files @fastify/static adds) is open: see routeScope.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, scope: 'public' };
  });
  await app.register(fastifyStatic, {
    root: DASHBOARD_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    decorateReply: false,
    // Revalidated on every load (ETag): a new image's assets take effect at once.
    maxAge: 0,
    setHeaders(reply) {
      reply.headers({
        'content-security-policy': DASHBOARD_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
    },
  });
}
