// The downloads' index (@flagship/common download-index.ts) as the API uses it: on the
// producer connection, each call under the adapter's deadline and 503 mapping.
import { downloadIndex, type RedisClient } from '@flagship/common';
import type { DownloadIndexPort } from './download-queues.ts';

export interface RedisDownloadIndexOptions {
  connection: RedisClient;
  prefix: string;
  /** The adapter's deadline and 503 mapping (bullmq-download-queues.ts). */
  guarded<T>(what: string, operation: () => Promise<T>): Promise<T>;
}

export function createRedisDownloadIndex(options: RedisDownloadIndexOptions): DownloadIndexPort {
  const index = downloadIndex(options.connection, options.prefix);
  const { guarded } = options;
  return {
    submitted: (download) => guarded('recording a download', () => index.submitted(download)),
    finished: (id, finish) => guarded('recording the end of a download', () => index.finished(id, finish)),
    forget: (id) => guarded('forgetting a download', () => index.forget(id)),
    read: (id) => guarded('reading a download record', () => index.read(id)),
    page: (query) => guarded('listing downloads', () => index.page(query)),
  };
}
