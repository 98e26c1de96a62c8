import { describe, expect, it } from 'vitest';
import { rotate, rotationOrder } from './rotation.ts';

describe('rotationOrder', () => {
  it('alternates two programs and lets each of three go first in turn', () => {
    expect([0, 1, 2].map((round) => rotationOrder(2, round))).toEqual([
      [0, 1],
      [1, 0],
      [0, 1],
    ]);
    expect([0, 1, 2].map((round) => rotationOrder(3, round))).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });

  it('refuses no programs', () => {
    expect(() => rotationOrder(0, 0)).toThrow(RangeError);
  });
});

describe('rotate', () => {
  it('records only the rounds after the warm-up, paired by round', async () => {
    const calls: string[] = [];
    let round = 0;
    const runner = (name: string) => async () => {
      calls.push(name);
      return `${name}${Math.floor(round++ / 2)}`;
    };
    const samples = await rotate([runner('a'), runner('b')], { warmups: 1, runs: 2 });
    expect(calls).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect(samples).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
  });
});
