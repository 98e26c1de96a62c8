// The flag store a service's configuration names (STORE, store-config.ts). The S3 store
// is imported on demand, so a service on the local folder never loads the AWS SDK.
import { createLocalFlagStore, type FlagStore } from './flag-store.ts';
import type { FlagStoreConfig } from './store-config.ts';

export interface OpenedFlagStore {
  store: FlagStore;
  /** Closes the store's connections (the S3 client's sockets); nothing for the local folder. */
  close(): void;
}

/**
 * The store, checked: an S3 bucket that is missing or refuses the credentials fails here,
 * at start, with a ConfigError, rather than at the first flag.
 */
export async function openFlagStore(config: FlagStoreConfig): Promise<OpenedFlagStore> {
  if (config.kind === 'fs') return { store: createLocalFlagStore(config.directory), close: () => {} };
  const { createS3Client, createS3FlagStore } = await import('./s3-flag-store.ts');
  const client = createS3Client(config);
  const store = createS3FlagStore({ client, bucket: config.bucket });
  try {
    await store.check();
  } catch (error) {
    client.destroy();
    throw error;
  }
  return { store, close: () => client.destroy() };
}
