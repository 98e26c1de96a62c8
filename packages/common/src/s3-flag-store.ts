// The flag store on an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Ceph's
// RADOS Gateway), through @aws-sdk/client-s3. It keeps the local store's promises:
//
// - A reader never sees half an object: S3 makes an object visible only once its PUT
//   has completed (a replaced object is served whole, old or new), so no temp name and
//   rename are needed. A flag is one PUT of a buffer (a few KB; never multipart).
// - Identical bytes are not written again: a save is first a conditional PUT
//   (`If-None-Match: *`: only when the key is new, the cold case, one request); when
//   something is there (412) the SHA-256 of the bytes, kept in every object's metadata
//   (`x-amz-meta-sha256`), is compared by a HEAD, and the object is replaced only when it
//   differs. A store that ignores the condition (older than conditional writes)
//   overwrites instead: the same bytes again, never wrong ones.
// - The same safe names: isSafeFileName() before any request, so a key never holds a
//   separator, a dot file or a control character, and nothing leaves the bucket.
//
// The client is made for these servers' common ground: path-style addressing when
// asked (MinIO, Ceph), and checksums only where the API requires them (Ceph 16.2
// rejects the SDK's default aws-chunked uploads with trailing checksums: 411).
// Loaded only when STORE=s3 (createFlagStore imports it on demand): the SDK is a few
// MB of modules that the fs store, the CLI and the origin never need.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConfigError } from '@flagship/runtime';
import { UnsafeFileNameError, isSafeFileName, type FlagStore, type SaveResult } from './flag-store.ts';
import type { S3StoreSettings } from './store-config.ts';

/** The object metadata key of the content hash (sent as `x-amz-meta-sha256`). */
export const CONTENT_HASH_METADATA = 'sha256';

export interface S3FlagStoreOptions {
  client: S3Client;
  bucket: string;
}

/** An S3 client for the settings: timeouts, a keep-alive pool, checksums only when required. */
export function createS3Client(settings: S3StoreSettings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    // A worker saves up to WORKER_CONCURRENCY x FLAG_CONCURRENCY flags at once (100 by
    // default); 64 sockets like the origin pool. Timeouts: a stalled store fails the
    // save (and the chunk, which the queue retries) instead of hanging it.
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
  });
}

export function createS3FlagStore(options: S3FlagStoreOptions): Required<FlagStore> & {
  /** Fails with a ConfigError when the bucket cannot be reached (missing, no access, wrong endpoint). */
  check(): Promise<void>;
} {
  const { client, bucket } = options;

  function keyOf(fileName: string): string {
    if (!isSafeFileName(fileName)) throw new UnsafeFileNameError(fileName);
    return fileName;
  }

  async function head(key: string) {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  return {
    async save(fileName, bytes): Promise<SaveResult> {
      const key = keyOf(fileName);
      const hash = createHash('sha256').update(bytes).digest('hex');
      const put = (onlyIfNew: boolean) =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
            ContentLength: bytes.byteLength,
            ContentType: contentTypeOf(fileName),
            Metadata: { [CONTENT_HASH_METADATA]: hash },
            ...(onlyIfNew ? { IfNoneMatch: '*' } : {}),
          }),
        );
      // Usually the flag is new (a cold download): one conditional PUT, no HEAD first.
      try {
        await put(true);
        return 'written';
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
      }
      // Something is there: keep it when it holds these bytes, else replace it.
      const existing = await head(key);
      if (existing?.ContentLength === bytes.byteLength && existing.Metadata?.[CONTENT_HASH_METADATA] === hash) {
        return 'unchanged';
      }
      await put(false);
      return 'written';
    },

    async stat(fileName) {
      const info = await head(keyOf(fileName));
      if (info === undefined) return undefined;
      return { size: info.ContentLength ?? 0, modifiedAt: info.LastModified ?? new Date(0) };
    },

    async open(fileName) {
      const key = keyOf(fileName);
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!(object.Body instanceof Readable)) throw new Error(`S3 GET ${key}: the body is not a Node stream`);
        return {
          stream: object.Body,
          size: object.ContentLength ?? 0,
          modifiedAt: object.LastModified ?? new Date(0),
        };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async presign(fileName, expiresInSeconds) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: keyOf(fileName),
        ResponseContentType: contentTypeOf(fileName),
      });
      return getSignedUrl(client, command, { expiresIn: expiresInSeconds });
    },

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const status = (error as S3ServiceException).$metadata?.httpStatusCode;
        const why =
          status === 404
            ? 'does not exist (create it first)'
            : status === 403
              ? 'refuses these credentials (403)'
              : `cannot be reached (${(error as Error).name}: ${(error as Error).message})`;
        throw new ConfigError(`S3 bucket "${bucket}" ${why}`, { cause: error });
      }
    },
  };
}

/**
 * The conditional PUT found an object there: 412 (PreconditionFailed), or 409 when
 * another conditional write to the key was in flight (AWS's ConditionalRequestConflict).
 */
function isPreconditionFailed(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  const status = error.$metadata.httpStatusCode;
  return status === 412 || status === 409 || error.name === 'PreconditionFailed';
}

/** 404 of an object (HEAD: NotFound, GET: NoSuchKey). A missing bucket on GET is not "no such flag". */
function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  if (error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}

function contentTypeOf(fileName: string): string {
  return fileName.toLowerCase().endsWith('.gif') ? 'image/gif' : 'application/octet-stream';
}

/** Delete every object of a bucket: for the tests' and benchmarks' throwaway buckets (the services never delete flags). */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key ?? '' }));
    if (keys.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
}

/** emptyBucket, then remove the bucket. */
export async function emptyAndRemoveBucket(client: S3Client, bucket: string): Promise<void> {
  await emptyBucket(client, bucket);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
