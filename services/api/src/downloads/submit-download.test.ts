import { COUNTRY_CODES, REFERENCE_CODES, chunkJobId } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { createDownload, resolveCodes, submitDownload } from './submit-download.ts';

describe('resolveCodes', () => {
  it("defaults to the reference program's 20 codes for no body or {}", () => {
    expect(resolveCodes(undefined)).toEqual(REFERENCE_CODES);
    expect(resolveCodes({})).toEqual(REFERENCE_CODES);
    expect(resolveCodes({ all: false })).toEqual(REFERENCE_CODES);
  });

  it('upper-cases and de-duplicates, keeping the first order', () => {
    expect(resolveCodes({ codes: ['br', 'CN', 'Br', 'cn', 'xk'] })).toEqual(['BR', 'CN', 'XK']);
  });

  it('takes every ISO code for all: true', () => {
    expect(resolveCodes({ all: true })).toEqual(COUNTRY_CODES);
    expect(COUNTRY_CODES).toHaveLength(250);
  });

  it('refuses unknown codes, naming each one and its position', () => {
    const error = (() => {
      try {
        resolveCodes({ codes: ['BR', 'ZZ', 'qq'] });
      } catch (e) {
        return e;
      }
    })() as InvalidRequestError;
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain('"ZZ"');
    expect(error.message).toContain('"qq"');
    expect(error.errors).toEqual([
      { field: '/body/codes/1', reason: 'unknown country code "ZZ"' },
      { field: '/body/codes/2', reason: 'unknown country code "qq"' },
    ]);
  });

  it('refuses codes and all together', () => {
    expect(() => resolveCodes({ codes: ['BR'], all: true })).toThrow(InvalidRequestError);
  });
});

describe('submitDownload', () => {
  const newId = () => '00000000-0000-4000-8000-000000000001';

  it('adds a download larger than a chunk as one flow: the parent with the codes, children in chunks', async () => {
    const queues = createFakeDownloadQueues();
    const accepted = await submitDownload({ codes: ['br', 'cn', 'in'] }, { queues, chunkSize: 2, newId });
    expect(accepted).toEqual({
      id: '00000000-0000-4000-8000-000000000001',
      state: 'queued',
      total: 3,
      links: {
        self: '/v1/downloads/00000000-0000-4000-8000-000000000001',
        events: '/v1/downloads/00000000-0000-4000-8000-000000000001/events',
      },
    });
    expect(queues.added).toHaveLength(1);
    const added = queues.added[0]!;
    if (added.shape !== 'flow') expect.unreachable('a flow was expected');
    const { flow } = added;
    expect(flow).toMatchObject({ queueName: 'downloads', prefix: 'fake', data: { codes: ['BR', 'CN', 'IN'] } });
    expect(flow.data).not.toHaveProperty('inline');
    expect(flow.opts?.jobId).toBe(accepted.id);
    expect(flow.children?.map((child) => [child.opts?.jobId, child.data.codes])).toEqual([
      [chunkJobId(accepted.id, 0), ['BR', 'CN']],
      [chunkJobId(accepted.id, 1), ['IN']],
    ]);
  });

  it('adds a download that fits one chunk as ONE job in downloads, carrying its own codes', async () => {
    const queues = createFakeDownloadQueues();
    const accepted = await submitDownload({ codes: ['br', 'cn'] }, { queues, chunkSize: 2, newId });
    expect(queues.added).toEqual([
      {
        shape: 'single',
        queueName: 'downloads',
        prefix: 'fake',
        name: 'download',
        data: { codes: ['BR', 'CN'], inline: true },
        opts: expect.objectContaining({ jobId: accepted.id, attempts: 3, removeOnComplete: expect.any(Object) }),
      },
    ]);
  });

  it('adds nothing when the request is invalid', async () => {
    const queues = createFakeDownloadQueues();
    await expect(submitDownload({ codes: ['ZZ'] }, { queues, chunkSize: 25 })).rejects.toThrow(InvalidRequestError);
    expect(queues.added).toHaveLength(0);
  });
});

describe('createDownload', () => {
  const id = '00000000-0000-4000-8000-000000000002';
  const deps = (queues = createFakeDownloadQueues()) => ({
    queues,
    chunkSize: 25,
    newId: () => id,
    now: () => 1_700_000_000_000,
    retention: { ageSeconds: 60, count: 5 },
  });

  it("records the download, queued, in the index, with the job's acceptance time, retention and retryOf", async () => {
    const d = deps();
    const accepted = await createDownload(['CN', 'IN'], d, { retryOf: 'd0' });
    expect(accepted).toMatchObject({ id, state: 'queued', total: 2, retryOf: 'd0' });
    expect(d.queues.index.records.get(id)).toMatchObject({
      state: 'queued',
      total: 2,
      createdAt: 1_700_000_000_000,
      retryOf: 'd0',
    });
    expect(d.queues.added[0]).toMatchObject({
      data: { codes: ['CN', 'IN'], retryOf: 'd0' },
      opts: { timestamp: 1_700_000_000_000, removeOnComplete: { age: 60, count: 5 } },
    });
  });

  it('forgets the record when the jobs cannot be added, and fails with the queue error', async () => {
    const failing = createFakeDownloadQueues({
      addDownload: () => Promise.reject(new Error('Redis is down')),
    });
    await expect(createDownload(['CN'], deps(failing))).rejects.toThrow('Redis is down');
    expect(failing.index.records.size).toBe(0);
  });

  it('still accepts a download whose record could not be written (the worker records it when it ends)', async () => {
    const d = deps();
    d.queues.index.submitted = () => Promise.reject(new Error('script failed'));
    await expect(createDownload(['CN'], d)).resolves.toMatchObject({ id });
    expect(d.queues.added).toHaveLength(1);
  });
});
