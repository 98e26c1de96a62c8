import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads a number of seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(['3', '9'], NOW)).toBe(3_000);
  });

  it('reads an HTTP date, as the time left until then', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:05 GMT', NOW)).toBe(5_000);
    expect(parseRetryAfter('Sunday, 01-Mar-26 12:00:30 GMT', NOW)).toBe(30_000);
  });

  it('makes a date in the past no wait at all', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', NOW)).toBe(0);
  });

  it.each([undefined, '', 'soon', '-1', '1.5', '2026-03-01T12:00:05Z', 'Sun, 99 Xyz 2026 99:99:99 GMT'])(
    'ignores %j',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});
