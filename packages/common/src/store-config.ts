// Which flag store a service uses, from its environment: `STORE=fs` (the default, a
// local folder, DOWNLOADS_DIR) or `STORE=s3` (a bucket of an S3-compatible object store:
// AWS S3, MinIO, Cloudflare R2, Ceph's RADOS Gateway). The worker writes and the API
// reads through the same settings, so both services take these schema properties and
// `flagStoreConfig` through `serviceEnvSchema` and `serviceConfig` (service-config.ts).
//
// The checks that one variable's schema cannot make (a bucket only when STORE=s3, both
// halves of a key pair or neither) throw a ConfigError that names the variables.
import { ConfigError } from '@flagship/runtime';
import { Type, type Static } from 'typebox';

/** S3 bucket names (the rules AWS, MinIO, R2 and Ceph share): 3-63 of a-z 0-9 . - */
const BUCKET_PATTERN = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';

export const FlagStoreEnvSchema = {
  STORE: Type.Unsafe<'fs' | 's3'>({
    type: 'string',
    enum: ['fs', 's3'],
    default: 'fs',
    description: 'Where flags are saved: fs (DOWNLOADS_DIR) or s3 (S3_BUCKET at S3_ENDPOINT)',
  }),
  S3_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s/]+/?$',
      description: 'S3 endpoint URL (scheme, host, port; unset: AWS S3 of S3_REGION)',
    }),
  ),
  S3_BUCKET: Type.Optional(
    Type.String({ pattern: BUCKET_PATTERN, description: 'Bucket that holds the flags (must exist)' }),
  ),
  S3_REGION: Type.String({
    default: 'us-east-1',
    pattern: '^[a-z0-9-]{1,32}$',
    description: 'Region the requests are signed for',
  }),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1, description: 'Access key (with S3_SECRET_ACCESS_KEY)' })),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1, description: 'Secret key of S3_ACCESS_KEY_ID' })),
  S3_FORCE_PATH_STYLE: Type.Boolean({
    default: false,
    description: 'Address the bucket in the path (http://host/bucket/key): MinIO and Ceph want it',
  }),
};

export type FlagStoreEnv = Static<ReturnType<typeof Type.Object<typeof FlagStoreEnvSchema>>>;

export interface S3StoreSettings {
  /** Unset: the SDK's AWS endpoint for `region`. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Unset: the SDK's default credential chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
}

export type FlagStoreConfig = { kind: 'fs'; directory: string } | ({ kind: 's3' } & S3StoreSettings);

/** The store settings of a loaded environment (`directory`: the service's DOWNLOADS_DIR). */
export function flagStoreConfig(env: FlagStoreEnv, directory: string): Readonly<FlagStoreConfig> {
  if (env.STORE === 'fs') return Object.freeze({ kind: 'fs', directory });
  if (env.S3_BUCKET === undefined) {
    throw new ConfigError('invalid configuration: STORE=s3 needs S3_BUCKET (the bucket that holds the flags)');
  }
  const id = env.S3_ACCESS_KEY_ID;
  const secret = env.S3_SECRET_ACCESS_KEY;
  if ((id === undefined) !== (secret === undefined)) {
    throw new ConfigError(
      'invalid configuration: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (set both, or neither for the default credential chain)',
    );
  }
  return Object.freeze({
    kind: 's3',
    ...(env.S3_ENDPOINT === undefined ? {} : { endpoint: env.S3_ENDPOINT.replace(/\/$/, '') }),
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    ...(id === undefined || secret === undefined ? {} : { credentials: { accessKeyId: id, secretAccessKey: secret } }),
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
  });
}

/** What a log line may say about the store (no keys). */
export function describeFlagStore(config: FlagStoreConfig): Record<string, string> {
  if (config.kind === 'fs') return { store: 'fs', downloadsDir: config.directory };
  return { store: 's3', s3Endpoint: config.endpoint ?? `aws (${config.region})`, s3Bucket: config.bucket };
}
