// The dashboard's files at / (each its own route, with a strict CSP), without a catch-all:
// unknown paths still get the problem+json 404, and none of it is in the OpenAPI document.
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../auth/api-keys.ts';
import { buildTestApp, buildTestAppWith, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { DASHBOARD_CSP, DASHBOARD_DIR } from './dashboard.plugin.ts';

let testApp: TestApp<FakeDownloadQueues>;
beforeAll(async () => {
  testApp = await buildTestApp();
});
afterAll(async () => testApp.close());

describe('dashboard', () => {
  it('serves the page at / with its script, stylesheet and icon, under a CSP that allows only the API itself', async () => {
    const page = await testApp.app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script type="module" src="dashboard.js"></script>');

    for (const [file, type] of [
      ['dashboard.js', /^(text|application)\/javascript/],
      ['dashboard.css', /^text\/css/],
      ['favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const response = await testApp.app.inject(`/${file}`);
      expect(response.statusCode, file).toBe(200);
      expect(response.headers['content-type'], file).toMatch(type);
      expect(response.headers.etag, file).toEqual(expect.any(String));
    }
  });

  it('holds only what the page loads (every file in the folder is served)', async () => {
    expect((await readdir(DASHBOARD_DIR)).sort()).toEqual([
      'dashboard.css',
      'dashboard.js',
      'favicon.svg',
      'index.html',
    ]);
  });

  it('adds no catch-all route: an unknown path is still a problem+json 404', async () => {
    const response = await testApp.app.inject('/nothing-here.js');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().code).toBe('FLAGSHIP_ROUTE_NOT_FOUND');
  });

  it('stays out of the OpenAPI document', async () => {
    const paths = Object.keys((await testApp.app.inject('/docs/json')).json().paths);
    expect(paths).toContain('/v1/downloads');
    expect(paths.filter((p) => !p.startsWith('/v1/') && !['/healthz', '/readyz'].includes(p))).toEqual([]);
  });
});

describe('dashboard with API keys', () => {
  it('still serves its files to anyone (the page is where the key is given), while the API asks for a key', async () => {
    const keyed = await buildTestAppWith({ config: { apiKeys: parseApiKeys('viewer:read-key-0123456789:read') } });
    try {
      for (const url of ['/', '/index.html', '/dashboard.js', '/dashboard.css', '/favicon.svg']) {
        expect((await keyed.app.inject(url)).statusCode, url).toBe(200);
        expect((await keyed.app.inject({ method: 'HEAD', url })).statusCode, `HEAD ${url}`).toBe(200);
      }
      expect((await keyed.app.inject('/v1/downloads')).statusCode).toBe(401);
      expect((await keyed.app.inject('/v1/flags/CN_China.gif')).statusCode).toBe(401);
      const withKey = await keyed.app.inject({
        url: '/v1/downloads',
        headers: { authorization: 'Bearer read-key-0123456789' },
      });
      expect(withKey.statusCode).toBe(200);
    } finally {
      await keyed.close();
    }
  });
});
