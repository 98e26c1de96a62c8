import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlagDataError, loadFlagDataSet, serializeMetadata, servedFile } from './flag-data.ts';

// Small hand-made data sets: the loader must refuse what the generator never writes.
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'origin-data-'));
  await mkdir(path.join(dataDir, 'flags', 'cn'), { recursive: true });
  await writeFile(path.join(dataDir, 'flags', 'cn', 'cn.gif'), 'GIF89a-fake');
  await writeFile(path.join(dataDir, 'flags', 'cn', 'metadata.json'), '{"country":"China"}');
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const writeManifest = (content: string) => writeFile(path.join(dataDir, 'flags', 'index.json'), content);

describe('loadFlagDataSet', () => {
  it('loads the listed flags into memory, looked up in any case', async () => {
    await writeManifest('["CN"]');
    const data = await loadFlagDataSet(dataDir);
    expect(data.codes).toEqual(['CN']);
    expect(data.get('cn')?.gif).toMatchObject({ contentType: 'image/gif', body: Buffer.from('GIF89a-fake') });
    expect(data.get('CN')?.metadata.contentType).toBe('application/json');
    expect(data.get('us')).toBeUndefined();
  });

  it.each([
    ['not JSON', '["CN"'],
    ['an object', '{"codes":["CN"]}'],
    ['a path', '["../../etc"]'],
    ['lower case', '["cn"]'],
    ['a number', '[86]'],
    ['three letters', '["CHN"]'],
  ])('refuses a manifest that is %s', async (_, manifest) => {
    await writeManifest(manifest);
    await expect(loadFlagDataSet(dataDir)).rejects.toThrow(FlagDataError);
  });

  it('refuses a missing data set, naming the file', async () => {
    await expect(loadFlagDataSet(path.join(dataDir, 'nowhere'))).rejects.toThrow(/index\.json/);
  });

  it('refuses a manifest that lists a flag without files', async () => {
    await writeManifest('["CN","US"]');
    // Both of US's files are missing; whichever read fails first is named, in us/.
    await expect(loadFlagDataSet(dataDir)).rejects.toThrow(/[/\\]us[/\\](us\.gif|metadata\.json) /);
  });
});

describe('servedFile', () => {
  it('gives a strong ETag that follows the content', () => {
    const a = servedFile(Buffer.from('a'), 'text/plain');
    expect(a.etag).toMatch(/^"[\w-]{27}"$/);
    expect(servedFile(Buffer.from('a'), 'text/plain').etag).toBe(a.etag);
    expect(servedFile(Buffer.from('b'), 'text/plain').etag).not.toBe(a.etag);
  });
});

describe('serializeMetadata', () => {
  it("writes flupy's keys in sorted order whatever the input order", () => {
    expect(serializeMetadata({ tld_cc: '.cn', iso_cc: 'CN', gec_cc: 'CH', country: 'China' })).toBe(
      '{"country":"China","gec_cc":"CH","iso_cc":"CN","tld_cc":".cn"}',
    );
  });
});
