import { ConfigError } from '@flagship/runtime';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './config.ts';
import { FlagStoreEnvSchema, describeFlagStore, flagStoreConfig } from './store-config.ts';

const schema = Type.Object(FlagStoreEnvSchema);
const load = (env: Record<string, string>) => flagStoreConfig(loadEnv(schema, env), '/downloads');

describe('flagStoreConfig', () => {
  it('is the local folder by default', () => {
    expect(load({})).toEqual({ kind: 'fs', directory: '/downloads' });
  });

  it('reads every S3 setting', () => {
    expect(
      load({
        STORE: 's3',
        S3_ENDPOINT: 'http://host.docker.internal:7480/',
        S3_BUCKET: 'flagship-flags',
        S3_REGION: 'eu-west-3',
        S3_ACCESS_KEY_ID: 'id',
        S3_SECRET_ACCESS_KEY: 'secret',
        S3_FORCE_PATH_STYLE: 'true',
      }),
    ).toEqual({
      kind: 's3',
      endpoint: 'http://host.docker.internal:7480',
      bucket: 'flagship-flags',
      region: 'eu-west-3',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
  });

  it('leaves the endpoint and the keys to the SDK (AWS, default credential chain) when unset', () => {
    expect(load({ STORE: 's3', S3_BUCKET: 'flags' })).toEqual({
      kind: 's3',
      bucket: 'flags',
      region: 'us-east-1',
      forcePathStyle: false,
    });
  });

  it('ignores the S3 settings with STORE=fs', () => {
    expect(load({ S3_BUCKET: 'flags', S3_ACCESS_KEY_ID: 'id' })).toEqual({ kind: 'fs', directory: '/downloads' });
  });

  it.each([
    [{ STORE: 'gcs' }, /STORE must be equal to one of the allowed values/],
    [{ STORE: 's3' }, /STORE=s3 needs S3_BUCKET/],
    [{ STORE: 's3', S3_BUCKET: 'Flags_Bucket' }, /S3_BUCKET must match pattern/],
    [{ STORE: 's3', S3_BUCKET: 'flags', S3_ENDPOINT: '127.0.0.1:7480' }, /S3_ENDPOINT must match pattern/],
    [{ STORE: 's3', S3_BUCKET: 'flags', S3_ENDPOINT: 'http://s3/path' }, /S3_ENDPOINT must match pattern/],
    [{ STORE: 's3', S3_BUCKET: 'flags', S3_FORCE_PATH_STYLE: 'yes' }, /S3_FORCE_PATH_STYLE must be boolean/],
    [
      { STORE: 's3', S3_BUCKET: 'flags', S3_ACCESS_KEY_ID: 'id' },
      /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together/,
    ],
    [{ STORE: 's3', S3_BUCKET: 'flags', S3_SECRET_ACCESS_KEY: 's' }, /go together/],
    [{ STORE: 's3', S3_BUCKET: 'flags', S3_REGION: 'EU West' }, /S3_REGION must match pattern/],
  ])('refuses %j with an error that names the setting', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });
});

describe('describeFlagStore', () => {
  it('names the bucket and the endpoint, never the keys', () => {
    const config = load({
      STORE: 's3',
      S3_BUCKET: 'flags',
      S3_ENDPOINT: 'http://127.0.0.1:7480',
      S3_ACCESS_KEY_ID: 'id-123',
      S3_SECRET_ACCESS_KEY: 'secret-456',
    });
    const text = JSON.stringify(describeFlagStore(config));
    expect(text).toContain('flags');
    expect(text).not.toMatch(/id-123|secret-456/);
    expect(describeFlagStore(load({}))).toEqual({ store: 'fs', downloadsDir: '/downloads' });
  });
});
