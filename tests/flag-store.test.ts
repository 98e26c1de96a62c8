// The flag stores against what they run on: the local folder on a temp dir, the S3 store
// on a real S3 server (tests/support/s3.ts: S3_ENDPOINT, which .ci/run points at Ceph's
// RADOS Gateway, or a MinIO container; the S3 part is skipped, saying why, when neither
// is there). Both pass the same contract (tests/support/flag-store-contract.ts); then
// what only S3 shows: the hash in the object's metadata, no PUT for identical bytes, the
// bucket check at start, presigned URLs, and the API serving flags from the bucket by
// stream and by redirect with the same ETag and 304s.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createLocalFlagStore, openFlagStore, type FlagStore } from '@flagship/common';
import { CONTENT_HASH_METADATA, createS3Client, createS3FlagStore } from '@flagship/common/s3';
import { ConfigError } from '@flagship/runtime';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFlagDeliveryApp } from '../services/api/src/test-support/test-app.ts';
import { flagStoreContract } from './support/flag-store-contract.ts';
import { openTestBucket, type TestBucket } from './support/s3.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('local folder', () => {
  let dir: string;
  let store: FlagStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flagship-store-contract-'));
    store = createLocalFlagStore(dir);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  flagStoreContract('local folder', () => store);
});

const opened = await openTestBucket();
if ('skip' in opened) console.warn(`flag-store.test.ts: S3 store tests skipped: ${opened.skip}`);
const s3 = 'bucket' in opened ? opened.bucket : undefined;

describe.skipIf(s3 === undefined)('S3 bucket', () => {
  const bucket = s3 as TestBucket;
  /** The commands the store sent, by name (a middleware on its client). */
  const sent: string[] = [];
  let client: S3Client;
  let store: ReturnType<typeof createS3FlagStore>;

  beforeAll(() => {
    console.info(`flag-store.test.ts: S3 store on ${bucket.server}, bucket ${bucket.settings.bucket}`);
    client = createS3Client(bucket.settings);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    store = createS3FlagStore({ client, bucket: bucket.settings.bucket });
  });
  afterAll(async () => {
    client?.destroy();
    await bucket.close();
  });

  flagStoreContract('S3 bucket', () => store);

  it('keeps the SHA-256 of the bytes in the object metadata, with the GIF content type', async () => {
    await store.save('NL_Netherlands.gif', bytes('rood-wit-blauw'));
    const head = await bucket.client.send(
      new HeadObjectCommand({ Bucket: bucket.settings.bucket, Key: 'NL_Netherlands.gif' }),
    );
    expect(head.Metadata?.[CONTENT_HASH_METADATA]).toBe(createHash('sha256').update('rood-wit-blauw').digest('hex'));
    expect(head.ContentType).toBe('image/gif');
  });

  it('saves a new flag with one conditional PUT, and writes the same bytes again never', async () => {
    sent.length = 0;
    expect(await store.save('PL_Poland.gif', bytes('bialo-czerwona'))).toBe('written');
    expect(sent).toEqual(['PutObjectCommand']);
    const first = await store.stat('PL_Poland.gif');
    sent.length = 0;
    // The conditional PUT is refused (412), the HEAD finds the same hash: nothing written.
    expect(await store.save('PL_Poland.gif', bytes('bialo-czerwona'))).toBe('unchanged');
    expect(sent).toEqual(['PutObjectCommand', 'HeadObjectCommand']);
    expect(await store.stat('PL_Poland.gif')).toEqual(first);
    sent.length = 0;
    expect(await store.save('PL_Poland.gif', bytes('czerwono-biala'))).toBe('written');
    expect(sent).toEqual(['PutObjectCommand', 'HeadObjectCommand', 'PutObjectCommand']);
  });

  it('rewrites, once, an object put there without the hash (by hand or by another tool)', async () => {
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.settings.bucket, Key: 'AT_Austria.gif', Body: 'rot-weiss-rot' }),
    );
    expect(await store.save('AT_Austria.gif', bytes('rot-weiss-rot'))).toBe('written');
    expect(await store.save('AT_Austria.gif', bytes('rot-weiss-rot'))).toBe('unchanged');
  });

  it('checks the bucket at start: a missing bucket or wrong keys are a ConfigError that says so', async () => {
    await expect(openFlagStore({ kind: 's3', ...bucket.settings })).resolves.toMatchObject({
      store: expect.anything(),
    });
    const missing = openFlagStore({ kind: 's3', ...bucket.settings, bucket: 'flagship-no-such-bucket' });
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow(/"flagship-no-such-bucket" does not exist/);
    const wrongKeys = openFlagStore({
      kind: 's3',
      ...bucket.settings,
      credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret' },
    });
    await expect(wrongKeys).rejects.toBeInstanceOf(ConfigError);
    await expect(wrongKeys).rejects.toThrow(/refuses these credentials \(403\)/);
  });

  it('presigns a URL that serves the bytes as a GIF, and stops serving them once it expires', async () => {
    await store.save('SE_Sweden.gif', bytes('blå-gul'));
    // Signatures carry whole seconds: 3 s, so that the first fetch is surely in time.
    const url = await store.presign!('SE_Sweden.gif', 3);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('blå-gul');
    await new Promise((resolve) => setTimeout(resolve, 4_100));
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/AccessDenied|expired/i);
  });

  describe('the API serving flags from the bucket', () => {
    const apps: FastifyInstance[] = [];
    afterAll(async () => {
      for (const app of apps) await app.close();
    });
    async function api(mode: 'stream' | 'redirect'): Promise<FastifyInstance> {
      const app = await buildFlagDeliveryApp(store, { mode, urlTtlSeconds: 60 });
      apps.push(app);
      return app;
    }
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(4_000, 7), Buffer.from(';')]);

    it('streams: the bytes, the ETag, a 304 for it, a 404 for a missing flag', async () => {
      await store.save('CH_Switzerland.gif', gif);
      const app = await api('stream');
      const response = await app.inject('/v1/flags/CH_Switzerland.gif');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('image/gif');
      expect(response.headers['content-length']).toBe(String(gif.length));
      expect(response.rawPayload.equals(gif)).toBe(true);
      const etag = String(response.headers.etag);
      expect(etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
      sent.length = 0;
      const again = await app.inject({ url: '/v1/flags/CH_Switzerland.gif', headers: { 'if-none-match': etag } });
      expect(again.statusCode).toBe(304);
      expect(again.headers.etag).toBe(etag);
      expect(sent).toEqual(['HeadObjectCommand']); // the 304 opened no body
      expect((await app.inject('/v1/flags/ZZ_Nowhere.gif')).statusCode).toBe(404);
      expect((await app.inject('/v1/flags/..%2Fescape.gif')).statusCode).toBe(400);
    });

    it('redirects: a 302 to a presigned URL with the same ETag, and a 304 for it', async () => {
      await store.save('DK_Denmark.gif', gif);
      const streamed = await (await api('stream')).inject('/v1/flags/DK_Denmark.gif');
      const app = await api('redirect');
      const response = await app.inject('/v1/flags/DK_Denmark.gif');
      expect(response.statusCode).toBe(302);
      expect(response.headers.etag).toBe(streamed.headers.etag);
      expect(response.headers['cache-control']).toBe('private, max-age=30');
      const location = String(response.headers.location);
      expect(location).toContain('X-Amz-Signature=');
      const followed = await fetch(location);
      expect(Buffer.from(await followed.arrayBuffer()).equals(gif)).toBe(true);
      const again = await app.inject({
        url: '/v1/flags/DK_Denmark.gif',
        headers: { 'if-none-match': String(streamed.headers.etag) },
      });
      expect(again.statusCode).toBe(304);
      expect((await app.inject('/v1/flags/ZZ_Nowhere.gif')).statusCode).toBe(404);
    });
  });
});
