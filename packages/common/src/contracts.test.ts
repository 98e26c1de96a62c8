import { describe, expect, it } from 'vitest';
import { ContractError, Contracts } from './contracts.ts';
import { COUNTRY_CODES, REFERENCE_CODES, isCountryCode, normalizeCodes } from './countries.ts';

describe('job data contracts (Redis is a trust boundary)', () => {
  it('accepts well-formed chunk data', () => {
    expect(Contracts.chunkJobData.check({ downloadId: 'x', chunk: 0, codes: ['CN'] })).toBe(true);
  });

  it.each([
    null,
    'CN',
    {},
    { downloadId: 'x', chunk: 0, codes: [] },
    { downloadId: 'x', chunk: 0, codes: ['cn'] },
    { downloadId: 'x', chunk: 0, codes: ['../../etc'] },
    { downloadId: 'x', chunk: -1, codes: ['CN'] },
    { downloadId: '', chunk: 0, codes: ['CN'] },
    { downloadId: 'x', chunk: 0, codes: Array(301).fill('CN') },
  ])('rejects poisoned chunk data %j with the failing path', (data) => {
    expect(() => Contracts.chunkJobData.parse(data)).toThrow(ContractError);
  });

  it('names the field that is wrong', () => {
    try {
      Contracts.chunkResult.parse({
        downloadId: 'x',
        chunk: 0,
        outcomes: [{ code: 'CN', status: 'MAYBE', attempts: 1 }],
      });
      expect.unreachable();
    } catch (error) {
      expect((error as ContractError).message).toContain('/outcomes/0/status');
    }
  });
});

describe('flag outcomes', () => {
  const result = (outcome: object) => ({ downloadId: 'x', chunk: 0, outcomes: [outcome] });
  const ok = { code: 'CN', status: 'OK', country: 'China', file: 'CN_China.gif', bytes: 9, attempts: 1 };

  it('accept the optional unchanged and finalUrl, and outcomes written before them', () => {
    expect(Contracts.chunkResult.check(result(ok))).toBe(true);
    expect(Contracts.chunkResult.check(result({ ...ok, unchanged: true }))).toBe(true);
    expect(Contracts.chunkResult.check(result({ ...ok, finalUrl: 'https://cdn.example/cn.gif' }))).toBe(true);
  });

  it('reject a malformed unchanged or finalUrl', () => {
    expect(Contracts.chunkResult.check(result({ ...ok, unchanged: 'yes' }))).toBe(false);
    expect(Contracts.chunkResult.check(result({ ...ok, finalUrl: 'x'.repeat(2_049) }))).toBe(false);
  });
});

describe('country codes', () => {
  it('knows the ISO alpha-2 codes, the reference 20 among them', () => {
    expect(COUNTRY_CODES.length).toBeGreaterThanOrEqual(249);
    expect(REFERENCE_CODES).toHaveLength(20);
    expect(REFERENCE_CODES.every(isCountryCode)).toBe(true);
    expect(isCountryCode('cn')).toBe(true);
    expect(isCountryCode('ZZ')).toBe(false);
  });

  it('normalizes to upper case without duplicates, keeping order', () => {
    expect(normalizeCodes(['in', 'CN', 'In', 'cn', 'US'])).toEqual(['IN', 'CN', 'US']);
  });
});
