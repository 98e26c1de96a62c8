import { COUNTRY_CODES, REFERENCE_CODES, chunkJobId } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.ts';
import { createFakeDownloadQueues } from '../test-support/fake-download-queues.ts';
import { resolveCodes, submitDownload } from './submit-download.ts';

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
