// Issue 10, point 3: redirects followed like the reference (aiohttp) does, but only to
// the origin's own host (or http → https on it), or to a host allowed by name. Two
// local origins stand for two hosts: 127.0.0.1 and `localhost` are different host
// names for the policy. The https origin uses a certificate made here with openssl.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadFlag } from './download-flag.ts';
import { TINY_GIF, serveFlag, startTestOrigin, useFlagTestbed, type Handler, type TestOrigin } from './test-origin.ts';

const bed = useFlagTestbed('Portugal');
const deps = bed.deps;
const extra: TestOrigin[] = [];
const running = () => new AbortController().signal;
const GIF_PATH = '/data/flags/pt/pt.gif';

/** Answers requests for `at` with `answer`, and the others as before. */
function route(at: string, answer: Handler): void {
  const previous = bed.origin.handler;
  bed.origin.handler = (req, res) => (req.url === at ? answer(req, res) : previous(req, res));
}

const redirectTo =
  (status: number, location: string): Handler =>
  (_req, res) =>
    res.writeHead(status, { location }).end('moved');

async function anotherOrigin(options: Parameters<typeof startTestOrigin>[0] = {}): Promise<TestOrigin> {
  const other = await startTestOrigin(options);
  other.handler = serveFlag('Portugal');
  extra.push(other);
  return other;
}

afterEach(async () => {
  await Promise.all(extra.splice(0).map((other) => other.close()));
});

describe('downloadFlag: redirects on the same host', () => {
  it('follows a chain of three (301, 302, 307) and records the final URL', async () => {
    route(GIF_PATH, redirectTo(301, '/a/pt.gif'));
    route('/a/pt.gif', redirectTo(302, `${bed.origin.root}/b/pt.gif`));
    route('/b/pt.gif', redirectTo(307, '../c/pt.gif'));
    route('/c/pt.gif', (_req, res) => res.writeHead(200, { 'content-type': 'image/gif' }).end(TINY_GIF));
    const outcome = await downloadFlag('PT', deps(), running());
    expect(outcome).toEqual({
      code: 'PT',
      status: 'OK',
      country: 'Portugal',
      file: 'PT_Portugal.gif',
      bytes: TINY_GIF.byteLength,
      attempts: 1,
      finalUrl: `${bed.origin.root}/c/pt.gif`,
    });
    expect(await readFile(path.join(bed.folder, 'PT_Portugal.gif'))).toEqual(TINY_GIF);
  });

  it('follows 303 and 308, for metadata.json too (no finalUrl: the GIF was not moved)', async () => {
    route('/data/flags/pt/metadata.json', redirectTo(303, '/meta/pt.json'));
    route('/meta/pt.json', redirectTo(308, '/data/flags/pt/metadata.json?v=2'));
    const outcome = await downloadFlag('PT', deps(), running());
    expect(outcome).toMatchObject({ status: 'OK', file: 'PT_Portugal.gif' });
    expect(outcome.finalUrl).toBeUndefined();
  });

  it('refuses a fourth redirect', async () => {
    route(GIF_PATH, redirectTo(302, '/1'));
    route('/1', redirectTo(302, '/2'));
    route('/2', redirectTo(302, '/3'));
    route('/3', redirectTo(302, '/4'));
    const outcome = await downloadFlag('PT', deps(), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toBe(`more than 3 redirects from ${bed.origin.url}/pt/pt.gif`);
    expect(bed.origin.hits('/4')).toBe(0);
    expect(await readdir(bed.folder).catch(() => [])).toEqual([]);
  });

  it('refuses a redirect without a Location', async () => {
    route(GIF_PATH, (_req, res) => res.writeHead(302).end());
    const outcome = await downloadFlag('PT', deps(), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('redirect without a Location');
  });
});

describe('downloadFlag: redirects to another host', () => {
  it('refuses another host, naming it, and never contacts it', async () => {
    const other = await anotherOrigin();
    route(GIF_PATH, redirectTo(302, `http://localhost:${other.port}/data/flags/pt/pt.gif`));
    const outcome = await downloadFlag('PT', deps(), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain(`redirect to another host localhost:${other.port} refused`);
    expect(other.requests).toEqual([]);
  });

  it('follows a host listed in allowedHosts', async () => {
    const other = await anotherOrigin();
    const moved = `http://localhost:${other.port}/data/flags/pt/pt.gif`;
    route(GIF_PATH, redirectTo(301, moved));
    const outcome = await downloadFlag('PT', deps({ allowedHosts: ['localhost'] }), running());
    expect(outcome).toMatchObject({ status: 'OK', file: 'PT_Portugal.gif', finalUrl: moved });
    expect(other.hits('/data/flags/pt/pt.gif')).toBe(1);
  });
});

let tls: { key: string; cert: string } | undefined;
const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  if (!openssl) return;
  const dir = await mkdtemp(path.join(tmpdir(), 'flagship-tls-'));
  try {
    // A throw-away self-signed certificate for 127.0.0.1, trusted by the https tests' dispatcher only.
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ...['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    tls = {
      key: await readFile(path.join(dir, 'key.pem'), 'utf8'),
      cert: await readFile(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe.skipIf(!openssl)('downloadFlag: http and https (needs openssl for a test certificate)', () => {
  async function httpsOrigin(): Promise<{ secure: TestOrigin; trusting: Agent }> {
    const secure = await anotherOrigin({ tls });
    await bed.dispatcher.destroy();
    bed.dispatcher = new Agent({ connect: { ca: tls?.cert }, maxResponseSize: 4_096 });
    return { secure, trusting: bed.dispatcher };
  }

  it('follows http to https on the same host name (another port), and records the https URL', async () => {
    const { secure } = await httpsOrigin();
    const moved = `https://127.0.0.1:${secure.port}/data/flags/pt/pt.gif`;
    route(GIF_PATH, redirectTo(301, moved));
    const outcome = await downloadFlag('PT', deps(), running());
    expect(outcome).toMatchObject({ status: 'OK', file: 'PT_Portugal.gif', finalUrl: moved });
    expect(secure.hits('/data/flags/pt/pt.gif')).toBe(1);
  });

  it('refuses https to http, even on the same host', async () => {
    const { secure } = await httpsOrigin();
    const serve = secure.handler;
    secure.handler = (req, res) =>
      req.url === GIF_PATH ? redirectTo(302, `${bed.origin.url}/pt/pt.gif`)(req, res) : serve(req, res);
    const outcome = await downloadFlag('PT', deps({ originUrl: secure.url, allowedHosts: ['127.0.0.1'] }), running());
    expect(outcome).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(outcome.reason).toContain('redirect from https to http refused');
    expect(bed.origin.requests).toEqual([]);
  });
});
