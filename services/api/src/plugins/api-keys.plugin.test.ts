// API keys end to end through the app: which routes need which scope (routes added
// later included: Bull Board), 401 with WWW-Authenticate, 403, both as
// problem+json, the public routes, the open mode and its warning.
import { silentLogger } from '@flagship/runtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseApiKeys } from '../auth/api-keys.ts';
import { buildTestAppWith, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';

const READ = 'read-key-0123456789';
const SUBMIT = 'submit-key-0123456789';
const ADMIN = 'admin-key-0123456789';
const API_KEYS = `viewer:${READ}:read,ci:${SUBMIT}:read+submit,ops:${ADMIN}:admin`;
const KEYS: Record<string, string> = { read: READ, 'read+submit': SUBMIT, admin: ADMIN };
const ID = '3b241101-e2bb-4255-8caf-4136c566a962';

let testApp: TestApp<FakeDownloadQueues> | undefined;
afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
});

/** The app with keys, plus a stand-in for Bull Board and a route that opens itself. */
async function appWithKeys(keys = API_KEYS): Promise<TestApp<FakeDownloadQueues>> {
  testApp = await buildTestAppWith({ config: { apiKeys: parseApiKeys(keys) } });
  const { app } = testApp;
  app.get('/admin/queues', async () => ({ board: true }));
  app.get('/v1/open-by-config', { config: { scope: 'public' } }, async () => ({ open: true }));
  return testApp;
}

const BASIC_CHALLENGE = 'Basic realm="flagship admin", charset="UTF-8"';

function basic(user: string, key: string) {
  return { authorization: `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}` };
}

function bearer(key: string) {
  return { authorization: `Bearer ${key}` };
}

type Request = { method: 'GET' | 'POST' | 'DELETE'; url: string };
const routes: Record<string, Request> = {
  submit: { method: 'POST', url: '/v1/downloads' },
  status: { method: 'GET', url: `/v1/downloads/${ID}` },
  flag: { method: 'GET', url: '/v1/flags/CN_China.gif' },
  cancel: { method: 'DELETE', url: `/v1/downloads/${ID}` },
  retry: { method: 'POST', url: `/v1/downloads/${ID}/retry` },
  board: { method: 'GET', url: '/admin/queues' },
};

describe('API keys', () => {
  it.each([
    // route, key, expected status (404s: the fake queues and folder hold nothing, so access was granted)
    ['submit', 'read', 403],
    ['submit', 'read+submit', 202],
    ['submit', 'admin', 202],
    ['status', 'read', 404],
    ['status', 'read+submit', 404],
    ['flag', 'read', 404],
    ['cancel', 'read+submit', 403],
    ['cancel', 'admin', 404],
    ['retry', 'read+submit', 403],
    ['retry', 'admin', 404],
    ['board', 'read', 403],
    ['board', 'admin', 200],
  ])('%s with a %s key answers %i', async (route, name, status) => {
    const { app } = await appWithKeys();
    const response = await app.inject({ ...routes[route]!, headers: bearer(KEYS[name]!) });
    expect(response.statusCode).toBe(status);
    if (status === 403) {
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 403, code: 'FLAGSHIP_FORBIDDEN', title: 'Forbidden' });
      expect(response.json().detail).toMatch(/does not have the (submit|admin) scope/);
      expect(response.headers['www-authenticate']).toBeUndefined();
    }
  });

  it.each(Object.keys(routes))('%s without a key answers 401 with a challenge', async (route) => {
    const { app } = await appWithKeys();
    const response = await app.inject(routes[route]!);
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    // Under /admin/ a browser is asked for the key (Basic) first.
    expect(response.headers['www-authenticate']).toEqual(
      route === 'board' ? [BASIC_CHALLENGE, 'Bearer realm="flagship"'] : 'Bearer realm="flagship"',
    );
    expect(response.json()).toMatchObject({
      status: 401,
      code: 'FLAGSHIP_UNAUTHORIZED',
      instance: routes[route]!.url,
      detail: expect.stringContaining('Authorization: Bearer'),
    });
  });

  it.each([
    ['a wrong key', bearer(`${ADMIN}x`), 'invalid_token'],
    ['a wrong X-API-Key', { 'x-api-key': 'nope' }, 'invalid_token'],
    ['Basic credentials', { authorization: 'Basic b3BzOnNlY3JldA==' }, 'invalid_request'],
    ['Bearer without a key', { authorization: 'Bearer ' }, 'invalid_request'],
  ])('refuses %s with 401 and the error in the challenge', async (_, headers, error) => {
    const { app } = await appWithKeys();
    const response = await app.inject({ ...routes.submit!, headers });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="flagship", error="${error}"`);
    expect(response.json().code).toBe('FLAGSHIP_UNAUTHORIZED');
    expect(JSON.stringify(response.json())).not.toContain(ADMIN);
  });

  it.each([
    ['an admin key', ADMIN, 200],
    ['a read key', READ, 403],
    ['a wrong key', `${ADMIN}x`, 401],
  ])('takes %s as the Basic password under /admin/ (any user name): %i', async (_, key, status) => {
    const { app } = await appWithKeys();
    const response = await app.inject({ ...routes.board!, headers: basic('anyone', key) });
    expect(response.statusCode).toBe(status);
    if (status === 401) {
      expect(response.headers['www-authenticate']).toEqual([
        BASIC_CHALLENGE,
        'Bearer realm="flagship", error="invalid_token"',
      ]);
    }
  });

  it('takes Basic nowhere else: a browser resends it cross-site, so it must not submit or read', async () => {
    const { app } = await appWithKeys();
    for (const route of ['submit', 'status', 'cancel']) {
      const response = await app.inject({ ...routes[route]!, headers: basic('ops', ADMIN) });
      expect(response.statusCode, route).toBe(401);
      expect(response.headers['www-authenticate'], route).toBe('Bearer realm="flagship", error="invalid_request"');
    }
  });

  it('takes the key from X-API-Key too, and the Bearer scheme in any case', async () => {
    const { app } = await appWithKeys();
    expect((await app.inject({ ...routes.submit!, headers: { 'x-api-key': SUBMIT } })).statusCode).toBe(202);
    expect((await app.inject({ ...routes.submit!, headers: { authorization: `bearer ${SUBMIT}` } })).statusCode).toBe(
      202,
    );
  });

  it('leaves health, readiness, the docs and routes that say so open; unknown routes are 404', async () => {
    const { app } = await appWithKeys();
    for (const url of ['/healthz', '/readyz', '/docs/json', '/v1/open-by-config']) {
      expect((await app.inject(url)).statusCode, url).toBe(200);
    }
    const unknown = await app.inject('/v1/nothing-here');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('documents the keys in the OpenAPI document: security, 401 and 403 on every route but the public ones', async () => {
    const { app } = await appWithKeys();
    const spec = (await app.inject('/docs/json')).json();
    expect(Object.keys(spec.components.securitySchemes)).toEqual(['apiKeyBearer', 'apiKeyHeader']);
    const submit = spec.paths['/v1/downloads'].post;
    expect(submit.security).toEqual([{ apiKeyBearer: [] }, { apiKeyHeader: [] }]);
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['202', '401', '403']));
    expect(submit.description).toContain('Needs an API key with the `submit` scope.');
    expect(spec.paths['/v1/downloads/{id}'].get.description).toContain('`read` scope');
    expect(spec.paths['/healthz'].get.security).toBeUndefined();
  });

  it('runs open without keys, and warns once at start', async () => {
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    testApp = await buildTestAppWith({ logger });
    await testApp.app.ready();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('API_KEYS is not set: the API is open');
    expect((await testApp.app.inject(routes.submit!)).statusCode).toBe(202);
  });
});
