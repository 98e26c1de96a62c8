import { describe, expect, it } from 'vitest';
import { routeScope } from './route-scope.ts';

describe('routeScope', () => {
  it.each([
    ['GET', '/v1/downloads', 'read'],
    ['HEAD', '/v1/downloads/:id', 'read'],
    ['GET', '/v1/downloads/:id/events', 'read'],
    ['GET', '/v1/flags/:file', 'read'],
    ['POST', '/v1/downloads', 'submit'],
    ['PUT', '/v1/anything', 'submit'],
    ['DELETE', '/v1/downloads/:id', 'admin'],
    ['POST', '/v1/downloads/:id/retry', 'admin'],
    ['GET', '/admin/queues', 'admin'],
    ['GET', '/admin/queues/api/queues', 'admin'],
    ['GET', '/healthz', 'public'],
    ['GET', '/readyz', 'public'],
    ['GET', '/docs', 'public'],
    ['GET', '/docs/json', 'public'],
    ['GET', '/docs/static/*', 'public'],
    ['GET', '/docsx', 'read'],
  ])('%s %s needs %s by default', (method, url, scope) => {
    expect(routeScope(method, url)).toBe(scope);
  });

  it("takes the route's own config over the default", () => {
    expect(routeScope('GET', '/metrics', 'public')).toBe('public');
    expect(routeScope('GET', '/v1/secret', 'admin')).toBe('admin');
    expect(routeScope('POST', '/v1/downloads/:id/retry', 'submit')).toBe('submit');
  });
});
