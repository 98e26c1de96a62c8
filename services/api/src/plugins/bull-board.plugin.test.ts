// Bull Board at /admin/queues: its page and assets load, its API refuses every change
// (read-only), its routes stay out of the OpenAPI document, and the rest of the API keeps
// its problem+json errors. The queues point at a Redis that is not there: nothing here
// reads it, and the app still closes at once.
import { createLocalFlagStore } from '@flagship/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { parseApiKeys } from '../auth/api-keys.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { TEST_CONFIG } from '../test-support/test-app.ts';
import { BULL_BOARD_PATH, createBoardQueues } from './bull-board.plugin.ts';
import type { FastifyInstance } from 'fastify';

const READ = 'read-key-0123456789';
const ADMIN = 'admin-key-0123456789';

let app: FastifyInstance;
let keyed: FastifyInstance;
let redis: Redis;
beforeAll(async () => {
  redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => {});
  app = await appWithBoard();
  keyed = await appWithBoard(`viewer:${READ}:read+submit,ops:${ADMIN}:admin`);
});
afterAll(async () => {
  await app.close();
  await keyed.close();
  redis.disconnect();
});

/** The app with the board, open or with API keys. */
function appWithBoard(apiKeys?: string): Promise<FastifyInstance> {
  return buildApp({
    config: { ...TEST_CONFIG, ...(apiKeys ? { apiKeys: parseApiKeys(apiKeys) } : {}) },
    queues: createFakeDownloadQueues(),
    store: createLocalFlagStore('/nonexistent'),
    adminQueues: createBoardQueues(redis),
  });
}

/** The board's page, one of its scripts and one of its API reads. */
async function boardUrls(): Promise<string[]> {
  const page = (await app.inject(BULL_BOARD_PATH)).body;
  const script = /src="(static\/[^"]+\.js)"/.exec(page)?.[1];
  if (!script) throw new Error('the board page loads no script');
  return [BULL_BOARD_PATH, `${BULL_BOARD_PATH}/`, `${BULL_BOARD_PATH}/${script}`, `${BULL_BOARD_PATH}/api/queues`];
}

describe('Bull Board', () => {
  it('serves its page at /admin/queues, with its own assets', async () => {
    for (const url of [BULL_BOARD_PATH, `${BULL_BOARD_PATH}/`]) {
      const page = await app.inject(url);
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type'], url).toMatch(/^text\/html/);
      expect(page.body, url).toContain('Flagship queues');
    }
    // The page's URLs are relative to <base href="/admin/queues/">.
    const page = (await app.inject(BULL_BOARD_PATH)).body;
    expect(page).toContain(`<base href="${BULL_BOARD_PATH}/" />`);
    const script = /src="(static\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script, 'the page loads a script from the board').toBeDefined();
    const asset = await app.inject(`${BULL_BOARD_PATH}/${script}`);
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('is read-only: changing a queue is refused', async () => {
    for (const queue of ['downloads', 'flags']) {
      const response = await app.inject({ method: 'PUT', url: `${BULL_BOARD_PATH}/api/queues/${queue}/pause` });
      expect(response.statusCode, queue).toBe(405);
    }
  });

  it('stays out of the OpenAPI document and leaves the problem+json 404 elsewhere', async () => {
    const paths = Object.keys((await app.inject('/docs/json')).json().paths);
    expect(paths.filter((p) => p.startsWith('/admin'))).toEqual([]);
    const missing = await app.inject('/admin/nothing');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('Bull Board with API keys', () => {
  it('answers 401 without a key, with a Basic challenge a browser answers, on its page, assets and API', async () => {
    for (const url of await boardUrls()) {
      const response = await keyed.inject(url);
      expect(response.statusCode, url).toBe(401);
      expect(response.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(String(response.headers['www-authenticate']), url).toMatch(/^Basic realm=/);
    }
  });

  it('answers 403 to a key without the admin scope, Bearer or Basic', async () => {
    for (const url of await boardUrls()) {
      for (const authorization of [`Bearer ${READ}`, `Basic ${Buffer.from(`viewer:${READ}`).toString('base64')}`]) {
        const response = await keyed.inject({ url, headers: { authorization } });
        expect(response.statusCode, `${url} ${authorization}`).toBe(403);
        expect(response.json().code).toBe('FLAGSHIP_FORBIDDEN');
      }
    }
  });

  it('lets an admin key in (page and assets), and stays read-only for it', async () => {
    const headers = { authorization: `Basic ${Buffer.from(`ops:${ADMIN}`).toString('base64')}` };
    const [page, , script] = await boardUrls();
    for (const url of [page!, script!]) {
      expect((await keyed.inject({ url, headers })).statusCode, url).toBe(200);
    }
    const pause = await keyed.inject({ method: 'PUT', url: `${BULL_BOARD_PATH}/api/queues/downloads/pause`, headers });
    expect(pause.statusCode).toBe(405);
  });
});
