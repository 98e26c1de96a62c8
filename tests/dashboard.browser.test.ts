// The dashboard in a real browser: Debian's chromium, driven by playwright-core, against
// the compose stack (its own project, the API on a free port with API keys, one worker
// taking two flags at a time from an origin that answers slowly, so a large download
// lasts long enough to be cancelled). The page loads without a key and asks for one; the
// key given in the page goes with every request, the event stream and the flag images
// included (the harder of the two modes: without keys the same code sends no header).
// Submits five codes from the page and waits for the gallery: each image loaded, under
// the country name the API reported, and the progress reads 5/5. Bull Board refuses
// requests without a key (401, with a Basic challenge) and without the admin scope (403),
// and lists both queues, read-only, to a browser given the admin key. Then a download of
// every country is cancelled from the page. Saves screenshots under test-results/. Skips,
// saying why, when chromium is not installed (.ci/run installs it with apt-get).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { HttpContracts } from '@flagship/common';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, startComposeStack } from './support/compose-stack.ts';

const CHROMIUM = '/usr/bin/chromium';
const results = path.join(REPOSITORY_ROOT, 'test-results');
/** Longest wait for something the page shows, and for the images to build and the stack to start (busy cores). */
const SHOW_TIMEOUT_MS = 90_000;
const STARTUP_TIMEOUT_MS = 900_000;
/** A key with every scope (admin implies submit and read) and one that may only read. */
const ADMIN_KEY = randomBytes(16).toString('hex');
const READ_KEY = randomBytes(16).toString('hex');

/** What the page callbacks read of the DOM (the project's type check has no DOM library). */
interface BrowserImage {
  complete: boolean;
  naturalWidth: number;
  alt: string;
  addEventListener(type: 'load' | 'error', listener: () => void): void;
}
interface BrowserGalleryItem {
  dataset: { code?: string };
  querySelector(selector: 'img'): BrowserImage | null;
  querySelector(selector: 'figcaption'): { textContent: string | null } | null;
}

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `dashboard browser test skipped: ${CHROMIUM} is missing (Debian's chromium; .ci/run installs it with ` +
      '`apt-get install -y chromium`, which failed or was not run here)',
  );
}

let stack: StartedDockerComposeEnvironment | undefined;
let browser: Browser | undefined;
let api: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  stack = await startComposeStack({
    name: 'flagship-e2e-dash',
    environment: {
      API_PORT: '0',
      ECHO_PORT: '0',
      // ~200 ms per flag, two at a time: five flags take about a second, all of them ~25 s.
      ORIGIN_DELAY_MS: '150-250',
      WORKER_CONCURRENCY: '1',
      FLAG_CONCURRENCY: '2',
      API_KEYS: `ops:${ADMIN_KEY}:admin,viewer:${READ_KEY}:read`,
    },
    services: ['redis', 'origin', 'worker', 'api'],
  });
  api = `http://127.0.0.1:${stack.getContainer('api-1').getMappedPort(3000)}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  await mkdir(results, { recursive: true });
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await stack?.down({ removeVolumes: true, timeout: 30_000 });
});

/** A new tab on the dashboard, with the admin key given in the page (each tab keeps its own). */
async function openDashboard({ withKey = true } = {}): Promise<Page> {
  if (!browser) throw new Error('no browser');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(SHOW_TIMEOUT_MS);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const response = await page.goto(`${api}/`);
  expect(response?.status(), 'the page loads without a key').toBe(200);
  if (withKey) await giveKey(page, ADMIN_KEY);
  return page;
}

/** Types the key into the page's key form and submits it with Enter. */
async function giveKey(page: Page, key: string): Promise<void> {
  const details = page.locator('#api-key');
  if ((await details.getAttribute('open')) === null) await page.locator('#api-key summary').click();
  await page.getByLabel('API key, kept for this tab only').fill(key);
  await page.keyboard.press('Enter');
  await page.locator('#key-status', { hasText: 'A key is set' }).waitFor();
}

/** The API's answer to a request with the admin key. */
function asAdmin(url: string): Promise<Response> {
  return fetch(`${api}${url}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
}

function basic(user: string, key: string): string {
  return `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;
}

describe.skipIf(!hasChromium)('dashboard in chromium', () => {
  it('loads without a key and asks for one, since the API refuses to list downloads without it', async () => {
    const page = await openDashboard({ withKey: false });
    try {
      await page.locator('#recent-status', { hasText: 'This API needs a key' }).waitFor();
      expect(await page.locator('#api-key').getAttribute('open')).not.toBeNull();
      await giveKey(page, ADMIN_KEY);
      await page.locator('#recent-status', { hasText: 'No downloads yet.' }).waitFor(); // a fresh stack
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('submits five codes, shows each flag loaded under its country name, and reads 5/5', async () => {
    const page = await openDashboard();
    try {
      // Keyboard only: type the codes, Enter submits.
      const codes = page.getByLabel('Country codes');
      await codes.focus();
      await page.keyboard.type('cn in us br jp');
      await page.keyboard.press('Enter');

      await page.locator('#progress-count', { hasText: /^5\/5$/ }).waitFor();
      await page.locator('#progress-state', { hasText: 'Completed' }).waitFor();
      const images = page.locator('#gallery img');
      await images.nth(4).waitFor();
      // Each image's load (or error) event, unless it has already come.
      for (const image of await images.all()) {
        await image.evaluate((element: BrowserImage) =>
          element.complete
            ? undefined
            : new Promise<void>((resolve) => {
                element.addEventListener('load', () => resolve());
                element.addEventListener('error', () => resolve());
              }),
        );
      }
      const shown = await page.locator('#gallery li').evaluateAll((items: BrowserGalleryItem[]) =>
        items.map((item) => ({
          code: item.dataset.code,
          caption: item.querySelector('figcaption')?.textContent,
          alt: item.querySelector('img')?.alt,
          naturalWidth: item.querySelector('img')?.naturalWidth ?? 0,
        })),
      );
      expect(shown).toHaveLength(5);

      // The names are the ones the API reported for the download the page followed.
      const id = await page.locator('#progress-id').innerText();
      const status = HttpContracts.downloadStatus.parse(await (await asAdmin(`/v1/downloads/${id}`)).json());
      expect(status).toMatchObject({ state: 'completed', total: 5, done: 5, saved: 5 });
      const countries = new Map(status.outcomes.map((outcome) => [outcome.code, outcome.country]));
      expect(Object.fromEntries(countries)).toEqual({
        CN: 'China',
        IN: 'India',
        US: 'United States',
        BR: 'Brazil',
        JP: 'Japan',
      });
      for (const flag of shown) {
        expect(flag.naturalWidth, `${flag.code} loaded`).toBeGreaterThan(0);
        expect(flag.caption, String(flag.code)).toBe(countries.get(String(flag.code)));
        expect(flag.alt).toBe(`Flag of ${flag.caption}`);
      }

      const bar = page.locator('#progress-bar');
      expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['5', '5']);
      expect(await page.locator('#progress-message').innerText()).toMatch(/^5 flags downloaded in \d+\.\d\ds$/);
      expect(await page.locator('#failures li').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.screenshot({ path: path.join(results, 'dashboard.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('keeps Bull Board to admin keys (page, assets, API), and lists both queues read-only to a browser given one', async () => {
    const board = `${api}/admin/queues`;
    const refused = await fetch(board);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="flagship admin"/);
    expect(HttpContracts.problem.parse(await refused.json()).code).toBe('FLAGSHIP_UNAUTHORIZED');
    for (const url of [board, `${board}/api/queues`]) {
      for (const authorization of [`Bearer ${READ_KEY}`, basic('viewer', READ_KEY)]) {
        expect((await fetch(url, { headers: { authorization } })).status, `${url} ${authorization}`).toBe(403);
      }
    }
    if (!browser) throw new Error('no browser');
    // A browser answers the Basic challenge with these (a person types them in its prompt).
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: ADMIN_KEY } });
    const page = await context.newPage();
    page.setDefaultTimeout(SHOW_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(`${api}/`);
      await page.getByRole('link', { name: 'Queues (Bull Board)' }).click();
      await page.waitForURL(/\/admin\/queues$/);
      for (const queue of ['downloads', 'flags']) {
        await page.getByRole('link', { name: queue, exact: true }).first().waitFor();
      }
      // The overview has loaded once it shows both queues' job counts (it reads them from Redis).
      await page
        .getByText(/^\d+ Jobs?$/)
        .nth(1)
        .waitFor();
      await page.screenshot({ path: path.join(results, 'bull-board.png') });
      const pause = await fetch(`${board}/api/queues/downloads/pause`, {
        method: 'PUT',
        headers: { authorization: basic('ops', ADMIN_KEY) },
      });
      expect(pause.status).toBe(405);
    } finally {
      await context.close();
    }
  });

  it('cancels a large download from the recent downloads', async () => {
    const page = await openDashboard();
    try {
      await page.getByLabel('Every country').check();
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      await page.locator('#progress-state', { hasText: 'Running' }).waitFor();
      const id = await page.locator('#progress-id').innerText();

      // Keyboard again: focus the row's Cancel button and press Enter.
      const row = page.locator(`#recent tr[data-id="${id}"]`);
      const cancel = row.getByRole('button', { name: `Cancel download ${id.slice(0, 8)}` });
      await cancel.focus();
      await page.keyboard.press('Enter');

      await page.locator('#progress-state', { hasText: 'Cancelled' }).waitFor();
      await row.locator('.state', { hasText: 'Cancelled' }).waitFor();
      expect(await row.getByRole('button', { name: /^Cancel/ }).count()).toBe(0);
      const status = HttpContracts.downloadStatus.parse(await (await asAdmin(`/v1/downloads/${id}`)).json());
      expect(status.state).toBe('cancelled');
      expect(status.done).toBeLessThan(status.total);
      expect(pageErrors).toEqual([]);
      await page.screenshot({ path: path.join(results, 'dashboard-cancelled.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
