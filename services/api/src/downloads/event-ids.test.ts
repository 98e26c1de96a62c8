// SSE event ids: the two stream positions and the told flags survive a round trip, and
// anything else is not taken for an id of ours.
import { describe, expect, it } from 'vitest';
import { compareStreamIds, decodeEventId, encodeEventId } from './event-ids.ts';

describe('event ids', () => {
  it('round-trips the positions and one bit per requested flag', () => {
    const told = Array.from({ length: 250 }, (_, i) => i % 3 === 0 || i === 249);
    const positions = { downloads: '1712345678901-0', flags: '1712345679000-13' };
    const id = encodeEventId(positions, told);
    expect(id).toMatch(/^1712345678901-0\.1712345679000-13\.[A-Za-z0-9_-]+$/);
    expect(decodeEventId(id, 250)).toEqual({ positions, told });
  });

  it('refuses an id of another download size, a malformed one, or none', () => {
    const id = encodeEventId({ downloads: '1-0', flags: '2-0' }, [true, false, true]);
    expect(decodeEventId(id, 3)).toBeDefined();
    expect(decodeEventId(id, 9)).toBeUndefined(); // two bytes of bits needed
    for (const bad of [undefined, '', 'x', '1-0.2-0', '1-0.2-0.AA.more', 'a-0.2-0.oA', '1-0.2-0.o*']) {
      expect(decodeEventId(bad, 3), String(bad)).toBeUndefined();
    }
  });

  it('orders stream ids by time, then sequence, beyond what a double holds', () => {
    expect(compareStreamIds('1712345678901-2', '1712345678901-10')).toBeLessThan(0);
    expect(compareStreamIds('1712345678902-0', '1712345678901-10')).toBeGreaterThan(0);
    expect(compareStreamIds('0-0', '0-0')).toBe(0);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBeGreaterThan(0);
  });
});
