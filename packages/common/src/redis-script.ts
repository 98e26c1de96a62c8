// A Lua script run with EVALSHA: ioredis's defineCommand, defined on a connection the
// first time it runs there (ioredis falls back to EVAL once when Redis does not have the
// script yet). Only `import type` from ioredis: the caller hands in its connection.
import type { RedisClient } from './redis-endpoint.ts';

export interface RedisScript {
  /** Runs the script on this connection: KEYS then ARGV. */
  run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

/** `name` must be unique per process: it becomes a method of each connection it runs on. */
export function redisScript(name: string, numberOfKeys: number, lua: string): RedisScript {
  return {
    run(redis, keys, args) {
      if (keys.length !== numberOfKeys)
        throw new RangeError(`script ${name} takes ${numberOfKeys} keys, got ${keys.length}`);
      const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
      let command = commands[name];
      if (command === undefined) {
        redis.defineCommand(name, { lua, numberOfKeys });
        command = commands[name] as ScriptCommand;
      }
      return command.call(redis, ...keys, ...args);
    },
  };
}
