// GET /v1/downloads: the downloads newest first, a page at a time, from the downloads'
// index (@flagship/common download-index.ts): one script per page, whose cost grows with
// the page, not with the number of downloads. The cursor is the last download of the
// page, (createdAt, id), opaque to clients (base64url JSON): the next page starts right
// after it, so downloads submitted during a walk (newer, so before the walk's position)
// neither shift it nor show up twice, and every download that existed when the walk
// started and is still kept is seen exactly once.
import {
  DOWNLOAD_ID_PATTERN,
  type DownloadList,
  type DownloadListItem,
  type DownloadListQuery,
  type DownloadRecord,
  type ListPosition,
} from '@flagship/common';
import { InvalidRequestError } from '../errors.ts';
import type { DownloadIndexPort } from '../queues/download-queues.ts';
import { downloadLinks } from './download-status.ts';

/** Items per page when the query gives no limit (DownloadListQuery's default). */
export const DEFAULT_LIST_LIMIT = 20;

const ID = new RegExp(DOWNLOAD_ID_PATTERN);

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** The position a cursor names; InvalidRequestError (400) for anything this API did not make. */
export function decodeCursor(cursor: string): ListPosition {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && value.length === 2) {
    const [createdAt, id] = value as [unknown, unknown];
    if (Number.isSafeInteger(createdAt) && (createdAt as number) >= 0 && typeof id === 'string' && ID.test(id)) {
      return { createdAt: createdAt as number, id };
    }
  }
  throw new InvalidRequestError('the cursor is not one this API gave', [
    { field: '/querystring/cursor', reason: 'must be the nextCursor of a previous page' },
  ]);
}

export function toListItem(record: DownloadRecord): DownloadListItem {
  return {
    id: record.id,
    state: record.state,
    total: record.total,
    done: record.done,
    saved: record.saved,
    notFound: record.notFound,
    failed: record.failed,
    createdAt: new Date(record.createdAt).toISOString(),
    ...(record.finishedAt === undefined ? {} : { finishedAt: new Date(record.finishedAt).toISOString() }),
    ...(record.retryOf === undefined ? {} : { retryOf: record.retryOf }),
    links: downloadLinks(record.id),
  };
}

export async function listDownloads(
  query: Partial<DownloadListQuery>,
  deps: { index: Pick<DownloadIndexPort, 'page'> },
): Promise<DownloadList> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const page = await deps.index.page({
    limit: query.limit ?? DEFAULT_LIST_LIMIT,
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(after === undefined ? {} : { after }),
  });
  return {
    items: page.records.map(toListItem),
    nextCursor: page.next === undefined ? null : encodeCursor(page.next),
  };
}
