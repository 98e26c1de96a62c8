import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisScript } from './redis-script.ts';

/** A connection that records defineCommand and the calls of the commands it defines. */
function fakeConnection() {
  const defined: string[] = [];
  const calls: unknown[][] = [];
  const connection: Record<string, unknown> = {
    defineCommand(name: string, definition: { lua: string; numberOfKeys: number }) {
      defined.push(`${name}/${definition.numberOfKeys}`);
      connection[name] = async (...args: unknown[]) => (calls.push(args), 'ran');
    },
  };
  return { redis: connection as unknown as Redis, defined, calls };
}

describe('redisScript', () => {
  it('defines the command once per connection, then runs it with its keys and arguments', async () => {
    const script = redisScript('flagshipTestScript', 2, 'return 1');
    const { redis, defined, calls } = fakeConnection();
    await expect(script.run(redis, ['k1', 'k2'], ['a', 1])).resolves.toBe('ran');
    await script.run(redis, ['k3', 'k4'], []);
    expect(defined).toEqual(['flagshipTestScript/2']);
    expect(calls).toEqual([
      ['k1', 'k2', 'a', 1],
      ['k3', 'k4'],
    ]);
    const other = fakeConnection();
    await script.run(other.redis, ['k1', 'k2'], []);
    expect(other.defined).toEqual(['flagshipTestScript/2']);
  });

  it('refuses the wrong number of keys', () => {
    const script = redisScript('flagshipTestScript2', 1, 'return 1');
    expect(() => script.run(fakeConnection().redis, [], [])).toThrow(RangeError);
  });
});
