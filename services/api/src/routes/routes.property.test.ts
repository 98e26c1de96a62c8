// Property-based tests of every route (fast-check): generated methods, paths (the
// routes' own shapes with arbitrary parameters, the routes other work adds, and random
// ones), query strings, headers (content types, keys good and bad, Idempotency-Key,
// conditional and SSE headers) and bodies (valid requests, arbitrary JSON, broken JSON,
// text, oversized), against the app with API keys off, on, and on with a small rate
// limit. Whatever comes in: never a 5xx, every 4xx is problem+json with its own status,
// no unhandled rejection, and with keys on nothing but a public route answers 2xx to a
// request without a key that has the route's scope. 10,500 cases in all.
import { COUNTRY_CODES, HttpContracts } from '@flagship/common';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../auth/api-keys.ts';
import type { AppConfig } from '../app.ts';
import { DOWNLOAD_ID, snapshot, summary, ok } from '../test-support/fixtures.ts';
import { buildTestAppWith, type TestApp } from '../test-support/test-app.ts';
import type { FakeDownloadQueues } from '../test-support/fake-download-queues.ts';

const READ = 'prop-read-0123456789';
const SUBMIT = 'prop-submit-0123456789';
const ADMIN = 'prop-admin-0123456789';
const API_KEYS = parseApiKeys(`viewer:${READ}:read,ci:${SUBMIT}:read+submit,ops:${ADMIN}:admin`);
/** Open with keys too: health, readiness, the docs, and the dashboard's files (plugins/dashboard.plugin.ts). */
const PUBLIC = /^\/((healthz|readyz|docs)(\/|$|\?)|(index\.html|dashboard\.js|dashboard\.css|favicon\.svg)?$)/;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let cases = 0;

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  console.info(`property tests: ${cases} generated requests, ${unhandled.length} unhandled rejections`);
});

// ---- what a request is made of ------------------------------------------------------

const printable = (maxLength: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${maxLength}}$`));
const anyText = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });

/** A path parameter: ids the app knows, plausible ones, traversal tries, any text percent-encoded. */
const segment = fc.oneof(
  fc.constant(DOWNLOAD_ID),
  fc.uuid(),
  fc.constantFrom('CN_China.gif', 'BR_Brazil.gif', '.hidden.gif', '..', '.', '%2e%2e', '%2F', '%00', 'a%2Fb', '%ZZ'),
  fc.constantFrom('x'.repeat(300), '3B241101-E2BB-4255-8CAF-4136C566A962', 'null', 'undefined', '__proto__'),
  anyText(40).map((text) => encodeURIComponent(text)),
  // Raw, as far as a URL can carry it: no separators, and no backslash (`/\` does not parse as a URL).
  printable(20).map((text) => text.replace(/[#?/\\ ]/g, '')),
);

const path = fc.oneof(
  { weight: 3, arbitrary: segment.map((id) => `/v1/downloads/${id}`) },
  { weight: 2, arbitrary: segment.map((id) => `/v1/downloads/${id}/events`) },
  { weight: 2, arbitrary: segment.map((file) => `/v1/flags/${file}`) },
  { weight: 1, arbitrary: segment.map((id) => `/v1/downloads/${id}/retry`) },
  { weight: 3, arbitrary: fc.constantFrom('/v1/downloads', '/v1/downloads/', '/healthz', '/readyz', '/docs/json') },
  { weight: 1, arbitrary: fc.constantFrom('/admin/queues', '/docs', '/v2/downloads', '//v1//downloads', '/') },
  { weight: 1, arbitrary: fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`) },
);

const queryValue = fc.oneof(
  fc.constantFrom('queued', 'running', 'completed', 'failed', 'cancelled', 'not_found', '-1', '0', '20', '101', '1e3'),
  anyText(20).map((text) => encodeURIComponent(text)),
  fc.constantFrom('%ZZ', '%', '[]', '{"a":1}'),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('state', 'limit', 'cursor', 'include', '__proto__[x]', 'constructor', 'a', 'a[]'),
        queryValue,
      ),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`)),
  printable(30).map((text) => `?${text.replace(/[# ]/g, '')}`),
);

const keyHeader = fc.oneof(
  fc.constantFrom(READ, SUBMIT, ADMIN).map((key) => ({ authorization: `Bearer ${key}` })),
  fc.constantFrom(READ, SUBMIT, ADMIN).map((key) => ({ 'x-api-key': key })),
  printable(60).map((value) => ({ authorization: value })),
  printable(40).map((value) => ({ authorization: `Bearer ${value}` })),
  printable(40).map((value) => ({ 'x-api-key': value })),
  fc.constant({}),
);

const headers = fc
  .record(
    {
      'content-type': fc.oneof(
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/problem+json',
        ),
        printable(30),
      ),
      accept: fc.constantFrom('*/*', 'text/event-stream', 'application/json', 'image/gif', 'nothing/at-all'),
      'idempotency-key': printable(80),
      'if-none-match': fc.oneof(printable(30), fc.constant('*')),
      'last-event-id': printable(20),
    },
    { requiredKeys: [] },
  )
  .chain((base) => keyHeader.map((key) => ({ ...base, ...key }) as Record<string, string>));

const codes = fc.array(
  fc.oneof(fc.constantFrom(...COUNTRY_CODES), fc.constantFrom('cn', 'Br', 'ZZ', 'XK', 'B1', ''), anyText(3)),
  { maxLength: 30 },
);
const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: codes.map((list) => JSON.stringify({ codes: list })) },
  { weight: 1, arbitrary: fc.boolean().map((all) => JSON.stringify({ all })) },
  { weight: 1, arbitrary: fc.constantFrom('{}', '', ' ', 'null', '[]', '"BR"', '{"__proto__":{"x":1}}', '{"codes":') },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: anyText(60) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 4_000, max: 6_000 }).map((n) => JSON.stringify({ codes: ['BR'], pad: 'x'.repeat(n) })),
  },
);

const method = fc.constantFrom(
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'POST',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
);

const request = fc.record({ method, path, query, headers, body });
type GeneratedRequest = typeof request extends fc.Arbitrary<infer R> ? R : never;

// ---- the checks ---------------------------------------------------------------------

async function send(app: FastifyInstance, generated: GeneratedRequest) {
  cases++;
  const { method: verb, path: url, query: search, headers: sent, body: payload } = generated;
  return app.inject({
    method: verb as 'GET',
    url: `${url}${search}`,
    headers: sent,
    ...(payload === undefined || verb === 'GET' || verb === 'HEAD' ? {} : { payload }),
  });
}

function checkAnswer(
  generated: GeneratedRequest,
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
): void {
  const where = `${generated.method} ${generated.path}${generated.query}`;
  expect(response.statusCode, where).toBeLessThan(500);
  if (response.statusCode < 400) return;
  expect(String(response.headers['content-type']), where).toMatch(/^application\/problem\+json/);
  if (generated.method === 'HEAD') return;
  const problem: unknown = JSON.parse(response.body);
  expect(HttpContracts.problem.check(problem), `${where}: ${response.body}`).toBe(true);
  expect((problem as { status: number }).status, where).toBe(response.statusCode);
  if (response.statusCode === 401) expect(response.headers['www-authenticate'], where).toMatch(/^Bearer realm=/);
  if (response.statusCode === 429) expect(Number(response.headers['retry-after']), where).toBeGreaterThan(0);
}

/** Keys on: a 2xx off the public routes needs a key with the scope of the method. */
function checkAccess(generated: GeneratedRequest, statusCode: number): void {
  if (statusCode >= 300 || PUBLIC.test(generated.path)) return;
  const sent = generated.headers;
  const bearer = /^Bearer +(\S+) *$/i.exec(sent.authorization ?? '')?.[1];
  const key = sent.authorization ? bearer : sent['x-api-key']?.trim();
  const where = `${generated.method} ${generated.path} answered ${statusCode}`;
  expect([READ, SUBMIT, ADMIN], where).toContain(key);
  if (generated.method !== 'GET' && generated.method !== 'HEAD') expect(key, where).not.toBe(READ);
}

// ---- the apps -----------------------------------------------------------------------

async function appFor(config: Partial<AppConfig>): Promise<TestApp<FakeDownloadQueues>> {
  const testApp = await buildTestAppWith({ config });
  // A finished download, so that its status and its event stream (which then ends at once) answer 200.
  const outcomes = [ok('BR'), ok('CN')];
  testApp.queues.snapshots.set(
    DOWNLOAD_ID,
    snapshot({ state: 'completed', returnValue: summary(outcomes), finishedAt: Date.now(), chunks: [] }),
  );
  return testApp;
}

const variants: Array<[string, Partial<AppConfig>, number]> = [
  ['keys off', {}, 4_000],
  ['keys on', { apiKeys: API_KEYS }, 4_500],
  ['keys on, 20 requests a minute per key', { apiKeys: API_KEYS, rateLimit: { max: 20, windowMs: 60_000 } }, 2_000],
];

describe.each(variants)('every route, %s', (_, config, numRuns) => {
  let testApp: TestApp<FakeDownloadQueues>;
  beforeAll(async () => {
    testApp = await appFor(config);
  });
  afterAll(async () => testApp.close());

  it(`never answers 5xx, answers every 4xx as problem+json, rejects nothing unhandled (${numRuns} requests)`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (generated) => {
        const response = await send(testApp.app, generated);
        checkAnswer(generated, response);
        if (config.apiKeys !== undefined) checkAccess(generated, response.statusCode);
      }),
      { numRuns },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  }, 240_000);
});
