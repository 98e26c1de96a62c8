// Issue 10, point 5: conditional GET. The validators live in a Map here; the Redis hash
// shared by workers is tested in tests/conditional-get.test.ts.
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { downloadFlag, type DownloadFlagDeps } from './download-flag.ts';
import type { FlagValidators, ValidatorStore } from './flag-validators.ts';
import { TINY_GIF, useFlagTestbed, type Handler } from './test-origin.ts';

const bed = useFlagTestbed('France');
let saves: string[];
let remembered: Map<string, FlagValidators>;

const validators: ValidatorStore = {
  get: async (code) => remembered.get(code),
  set: async (code, record) => void remembered.set(code, record),
};

const deps = (overrides: Partial<DownloadFlagDeps> = {}) => bed.deps({ validators, ...overrides });

const running = () => new AbortController().signal;
const GIF_PATH = '/data/flags/fr/fr.gif';
const META_PATH = '/data/flags/fr/metadata.json';
/** A second whole GIF: the first with another colour in its table. */
const OTHER_GIF = Buffer.from(TINY_GIF).fill(0x10, 13, 16);

/** What the origin serves now; a test changes it between two downloads. */
const served = { gif: TINY_GIF as Buffer, country: 'France', etags: true, lastModified: false };

const etagOf = (bytes: Uint8Array) => `"${createHash('sha1').update(bytes).digest('hex').slice(0, 16)}"`;
const LAST_MODIFIED = 'Sun, 01 Mar 2026 12:00:00 GMT';

/** Like the bundled origin: validators on every answer, 304 when If-None-Match matches. */
const conditionalOrigin: Handler = (req, res) => {
  const isGif = req.url === GIF_PATH;
  const body = isGif ? served.gif : Buffer.from(JSON.stringify({ country: served.country }));
  const headers: Record<string, string> = { 'content-type': isGif ? 'image/gif' : 'application/json' };
  if (served.etags) headers.etag = etagOf(body);
  if (served.lastModified) headers['last-modified'] = LAST_MODIFIED;
  const fresh =
    (served.etags && req.headers['if-none-match'] === headers.etag) ||
    (!served.etags && served.lastModified && req.headers['if-modified-since'] === LAST_MODIFIED);
  if (fresh) res.writeHead(304, headers).end();
  else res.writeHead(200, headers).end(body);
};

/** The requests of the last download (after `since`), as "path [conditional header]" → status seen. */
function requestsSince(since: number): string[] {
  const conditional = (headers: IncomingMessage['headers']) =>
    headers['if-none-match'] !== undefined
      ? ' If-None-Match'
      : headers['if-modified-since'] !== undefined
        ? ' If-Modified-Since'
        : '';
  return bed.origin.requests.slice(since).map((seen) => `${seen.path}${conditional(seen.headers)}`);
}

beforeEach(() => {
  Object.assign(served, { gif: TINY_GIF, country: 'France', etags: true, lastModified: false });
  bed.origin.handler = conditionalOrigin;
  const local = bed.store;
  saves = [];
  bed.store = {
    save: (name, bytes) => {
      saves.push(name);
      return local.save(name, bytes);
    },
    open: (name) => local.open(name),
    stat: (name) => local.stat!(name),
  };
  remembered = new Map();
});

describe('downloadFlag: conditional GET', () => {
  it('remembers the validators of a saved flag; a repeat sends them and a 304 is OK, unchanged, not written', async () => {
    const first = await downloadFlag('FR', deps(), running());
    expect(first).toEqual({
      code: 'FR',
      status: 'OK',
      country: 'France',
      file: 'FR_France.gif',
      bytes: TINY_GIF.byteLength,
      attempts: 1,
    });
    expect(remembered.get('FR')).toEqual({
      url: `${bed.origin.url}/fr/fr.gif`,
      file: 'FR_France.gif',
      bytes: TINY_GIF.byteLength,
      country: 'France',
      gif: { etag: etagOf(TINY_GIF) },
      metadata: { etag: etagOf(Buffer.from('{"country":"France"}')) },
    });

    const since = bed.origin.requests.length;
    const repeat = await downloadFlag('FR', deps(), running());
    expect(repeat).toEqual({ ...first, unchanged: true });
    expect(requestsSince(since).sort()).toEqual([`${GIF_PATH} If-None-Match`, `${META_PATH} If-None-Match`]);
    expect(saves).toEqual(['FR_France.gif']); // the first download's only
  });

  it('sends If-Modified-Since when the bed.origin gave only Last-Modified', async () => {
    Object.assign(served, { etags: false, lastModified: true });
    await downloadFlag('FR', deps(), running());
    const since = bed.origin.requests.length;
    const repeat = await downloadFlag('FR', deps(), running());
    expect(repeat).toMatchObject({ status: 'OK', unchanged: true });
    expect(requestsSince(since).sort()).toEqual([`${GIF_PATH} If-Modified-Since`, `${META_PATH} If-Modified-Since`]);
  });

  it('replaces a GIF that changed (200 to the conditional request), under the same name', async () => {
    await downloadFlag('FR', deps(), running());
    served.gif = OTHER_GIF;
    const repeat = await downloadFlag('FR', deps(), running());
    expect(repeat).toMatchObject({ status: 'OK', file: 'FR_France.gif', bytes: OTHER_GIF.byteLength });
    expect(repeat.unchanged).toBeUndefined();
    expect(await readFile(path.join(bed.folder, 'FR_France.gif'))).toEqual(OTHER_GIF);
    expect(remembered.get('FR')?.gif.etag).toBe(etagOf(OTHER_GIF));
  });

  it('a 304 on the GIF with a renamed country: the GIF is fetched again and saved under the new name', async () => {
    await downloadFlag('FR', deps(), running());
    served.country = 'French Republic';
    const since = bed.origin.requests.length;
    const repeat = await downloadFlag('FR', deps(), running());
    expect(repeat).toMatchObject({ status: 'OK', country: 'French Republic', file: 'FR_French_Republic.gif' });
    expect(repeat.unchanged).toBeUndefined();
    expect(requestsSince(since).sort()).toEqual([GIF_PATH, `${GIF_PATH} If-None-Match`, `${META_PATH} If-None-Match`]);
    expect(await readFile(path.join(bed.folder, 'FR_French_Republic.gif'))).toEqual(TINY_GIF);
    expect(remembered.get('FR')).toMatchObject({ file: 'FR_French_Republic.gif', country: 'French Republic' });
  });

  it('metadata changed but not the name: still unchanged, and the new metadata ETag is remembered', async () => {
    await downloadFlag('FR', deps(), running());
    const before = remembered.get('FR');
    bed.origin.handler = (req, res) => {
      if (req.url !== META_PATH) return conditionalOrigin(req, res);
      res.writeHead(200, { etag: '"meta-v2"' }).end(JSON.stringify({ country: 'France', tld_cc: '.fr' }));
    };
    const repeat = await downloadFlag('FR', deps(), running());
    expect(repeat).toMatchObject({ status: 'OK', file: 'FR_France.gif', unchanged: true });
    expect(remembered.get('FR')).toEqual({ ...before, metadata: { etag: '"meta-v2"' } });
    expect(saves).toHaveLength(1);
  });

  it('sends no validators when the saved file is gone, or not the size remembered', async () => {
    await downloadFlag('FR', deps(), running());
    await rm(path.join(bed.folder, 'FR_France.gif'));
    let since = bed.origin.requests.length;
    expect(await downloadFlag('FR', deps(), running())).not.toHaveProperty('unchanged');
    expect(requestsSince(since).sort()).toEqual([GIF_PATH, META_PATH]);

    await writeFile(path.join(bed.folder, 'FR_France.gif'), 'edited by hand');
    since = bed.origin.requests.length;
    expect(await downloadFlag('FR', deps(), running())).not.toHaveProperty('unchanged');
    expect(requestsSince(since).sort()).toEqual([GIF_PATH, META_PATH]);
  });

  it.each([
    ['another bed.origin URL', { url: 'http://elsewhere.example/data/flags/fr/fr.gif' }],
    ['a file its country does not name', { file: '../../etc/passwd' }],
  ])('sends no validators remembered for %s', async (_, poisoned) => {
    await downloadFlag('FR', deps(), running());
    remembered.set('FR', { ...remembered.get('FR')!, ...poisoned });
    const since = bed.origin.requests.length;
    expect(await downloadFlag('FR', deps(), running())).not.toHaveProperty('unchanged');
    expect(requestsSince(since).sort()).toEqual([GIF_PATH, META_PATH]);
  });

  it('treats a 304 to a request without validators as an ERROR', async () => {
    bed.origin.handler = (_req, res) => res.writeHead(304).end();
    const outcome = await downloadFlag('FR', deps(), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('HTTP 304');
    expect(await readdir(bed.folder)).toEqual([]);
  });

  it('remembers nothing from an bed.origin without validators', async () => {
    Object.assign(served, { etags: false, lastModified: false });
    await downloadFlag('FR', deps(), running());
    expect(remembered.size).toBe(0);
  });
});
