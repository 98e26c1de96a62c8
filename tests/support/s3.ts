// A real S3 server for the store's tests: the one S3_ENDPOINT names when it is set
// (.ci/run starts Ceph's RADOS Gateway and exports it, with S3_ACCESS_KEY_ID,
// S3_SECRET_ACCESS_KEY and S3_REGION), otherwise a MinIO container
// (@testcontainers/minio, image MINIO_IMAGE) for machines whose Docker reaches public
// images. When neither works the caller skips its tests and says why: a store test
// never passes against nothing.
//
// Each caller gets its own bucket (`flagship-test-<random>`), emptied and removed by
// `close()`, so files can run one after another against one server.
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, emptyAndRemoveBucket } from '@flagship/common/s3';
import type { S3StoreSettings } from '@flagship/common';
import { MinioContainer, type StartedMinioContainer } from '@testcontainers/minio';

export const DEFAULT_MINIO_IMAGE = 'minio/minio:RELEASE.2025-04-22T22-12-26Z';

export interface TestBucket {
  /** Settings of a store on this bucket (path-style, explicit keys). */
  settings: S3StoreSettings;
  client: S3Client;
  /** Where the server came from, for the test's log. */
  server: string;
  close(): Promise<void>;
}

export type TestBucketOrSkip = { bucket: TestBucket } | { skip: string };

/** A fresh bucket on S3_ENDPOINT, or on a MinIO container; `skip` when neither is there. */
export async function openTestBucket(): Promise<TestBucketOrSkip> {
  const server = await s3Server();
  if ('skip' in server) return server;
  const settings: S3StoreSettings = { ...server.settings, bucket: `flagship-test-${randomUUID().slice(0, 13)}` };
  const client = createS3Client(settings);
  try {
    await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  } catch (error) {
    client.destroy();
    await server.stop();
    throw error;
  }
  return {
    bucket: {
      settings,
      client,
      server: server.name,
      async close() {
        await emptyAndRemoveBucket(client, settings.bucket).finally(() => client.destroy());
        await server.stop();
      },
    },
  };
}

type Server = { name: string; settings: Omit<S3StoreSettings, 'bucket'>; stop(): Promise<void> } | { skip: string };

/** A store's settings but the bucket, with the endpoint and keys always given. */
export type S3ServerFromEnv = Omit<S3StoreSettings, 'bucket'> & {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
};

/**
 * The S3 server S3_ENDPOINT names, with S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and
 * S3_REGION (default us-east-1), path-style as Ceph needs; undefined when S3_ENDPOINT is
 * unset. The tests and the S3 benchmarks (bench/src/scenarios) read it here.
 */
export function s3SettingsFromEnv(): S3ServerFromEnv | undefined {
  const endpoint = process.env.S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') return undefined;
  const accessKeyId = process.env.S3_ACCESS_KEY_ID;
  const secretAccessKey = process.env.S3_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('S3_ENDPOINT is set without S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  }
  return {
    endpoint,
    region: process.env.S3_REGION || 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    forcePathStyle: true,
  };
}

async function s3Server(): Promise<Server> {
  const fromEnv = s3SettingsFromEnv();
  if (fromEnv !== undefined)
    return { name: `S3_ENDPOINT ${fromEnv.endpoint}`, settings: fromEnv, stop: async () => {} };
  const image = process.env.MINIO_IMAGE ?? DEFAULT_MINIO_IMAGE;
  let minio: StartedMinioContainer;
  try {
    minio = await new MinioContainer(image).start();
  } catch (error) {
    return {
      skip: `no S3 server: S3_ENDPOINT is unset and MinIO (${image}) did not start: ${(error as Error).message.split('\n')[0]}`,
    };
  }
  return {
    name: `MinIO container (${image})`,
    settings: {
      endpoint: minio.getConnectionUrl(),
      region: 'us-east-1',
      credentials: { accessKeyId: minio.getUsername(), secretAccessKey: minio.getPassword() },
      forcePathStyle: true,
    },
    stop: async () => {
      await minio.stop();
    },
  };
}
