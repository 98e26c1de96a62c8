import type { DownloadRecord } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.ts';
import { createFakeDownloadIndex } from '../test-support/fake-download-index.ts';
import { decodeCursor, encodeCursor, listDownloads, toListItem } from './list-downloads.ts';

const ID = '3b241101-e2bb-4255-8caf-4136c566a962';

describe('cursors', () => {
  it('round-trip a position, opaque (base64url)', () => {
    const cursor = encodeCursor({ createdAt: 1_700_000_000_123, id: ID });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ createdAt: 1_700_000_000_123, id: ID });
  });

  it.each([
    'not base64 json',
    Buffer.from('{"createdAt":1}').toString('base64url'),
    Buffer.from(JSON.stringify([-1, ID])).toString('base64url'),
    Buffer.from(JSON.stringify([1.5, ID])).toString('base64url'),
    Buffer.from(JSON.stringify([1, 'd1'])).toString('base64url'),
    Buffer.from(JSON.stringify([1, ID, 3])).toString('base64url'),
  ])('refuses %s with a 400 naming the cursor', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(InvalidRequestError);
    try {
      decodeCursor(cursor);
    } catch (error) {
      expect((error as InvalidRequestError).errors?.[0]?.field).toBe('/querystring/cursor');
    }
  });
});

describe('toListItem', () => {
  it('shows a record as a summary with ISO times and links', () => {
    const record: DownloadRecord = {
      id: ID,
      state: 'completed',
      total: 3,
      done: 3,
      saved: 2,
      notFound: 1,
      failed: 0,
      createdAt: Date.parse('2026-01-01T00:00:00Z'),
      finishedAt: Date.parse('2026-01-01T00:00:01.5Z'),
      retryOf: ID,
    };
    expect(toListItem(record)).toEqual({
      ...record,
      createdAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.500Z',
      links: { self: `/v1/downloads/${ID}`, events: `/v1/downloads/${ID}/events` },
    });
  });
});

describe('listDownloads', () => {
  it('pages newest first with the cursor of the last item, then null', async () => {
    const index = createFakeDownloadIndex();
    const ids = [1, 2, 3].map((n) => `00000000-0000-4000-8000-00000000000${n}`);
    ids.forEach((id, n) => index.put({ id, createdAt: 1_000 + n }));
    const first = await listDownloads({ limit: 2 }, { index });
    expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toBe(encodeCursor({ createdAt: 1_001, id: ids[1] as string }));
    const second = await listDownloads({ limit: 2, cursor: first.nextCursor as string }, { index });
    expect(second).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
    expect((await listDownloads({}, { index })).items).toHaveLength(3);
  });
});
