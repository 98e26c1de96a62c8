import { ConfigError } from '@flagship/runtime';
import { describe, expect, it } from 'vitest';
import { describeRedisEndpoint, redisEndpointFromEnv, type RedisEnv } from './redis-endpoint.ts';

describe('redisEndpointFromEnv', () => {
  it('defaults to one node on localhost', () => {
    expect(redisEndpointFromEnv({})).toEqual({ mode: 'standalone', url: 'redis://localhost:6379' });
  });

  it('keeps a one-node URL as it is, its password too, and fills in REDIS_PASSWORD when it has none', () => {
    expect(redisEndpointFromEnv({ REDIS_URL: 'rediss://:s%40cret@cache:6380/2?family=6' })).toEqual({
      mode: 'standalone',
      url: 'rediss://:s%40cret@cache:6380/2?family=6',
      password: 's@cret',
    });
    expect(redisEndpointFromEnv({ REDIS_URL: 'redis://cache', REDIS_PASSWORD: 'pw', REDIS_USERNAME: 'app' })).toEqual({
      mode: 'standalone',
      url: 'redis://cache',
      username: 'app',
      password: 'pw',
    });
  });

  it('reads a Sentinel URL: sentinels (port 26379 by default), master name, the nodes’ credentials', () => {
    expect(redisEndpointFromEnv({ REDIS_URL: 'redis+sentinel://:pw@s1,s2:26380,[::1]:26381/mymaster' })).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'mymaster',
      tls: false,
      password: 'pw',
    });
    expect(
      redisEndpointFromEnv({
        REDIS_URL: 'rediss+sentinel://s1:26379',
        REDIS_SENTINEL_NAME: 'main',
        REDIS_SENTINEL_PASSWORD: 'spw',
      }),
    ).toMatchObject({ mode: 'sentinel', masterName: 'main', tls: true, sentinelPassword: 'spw' });
  });

  it('reads REDIS_SENTINELS with REDIS_SENTINEL_NAME, and the password from REDIS_PASSWORD', () => {
    expect(
      redisEndpointFromEnv({
        REDIS_SENTINELS: 's1:26379, s2:26379',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_PASSWORD: 'pw',
      }),
    ).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      tls: false,
      password: 'pw',
    });
  });

  it('reads a Cluster from a URL or from REDIS_CLUSTER_NODES (port 6379 by default)', () => {
    expect(redisEndpointFromEnv({ REDIS_URL: 'rediss+cluster://:pw@n1:7000,n2' })).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 6379 },
      ],
      tls: true,
      password: 'pw',
    });
    expect(redisEndpointFromEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001' })).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      tls: false,
    });
  });

  it.each<[RedisEnv, RegExp]>([
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL \(http:\/\/\) is not a Redis URL/],
    [{ REDIS_URL: 'cache:6379' }, /REDIS_URL \(no scheme\) is not a Redis URL/],
    [{ REDIS_URL: 'redis://a:6379,b:6379' }, /several hosts: use redis\+sentinel/],
    [{ REDIS_URL: 'redis+sentinel://s1:26379' }, /REDIS_URL: name the master/],
    [{ REDIS_URL: 'redis+sentinel:///mymaster' }, /REDIS_URL names no sentinel/],
    [{ REDIS_URL: 'redis+sentinel://s1/my master' }, /master name "my master" is not/],
    [{ REDIS_URL: 'redis+sentinel://s1/a', REDIS_SENTINEL_NAME: 'b' }, /name different masters/],
    [{ REDIS_URL: 'redis+cluster://n1/3' }, /only database 0/],
    [{ REDIS_URL: 'redis+cluster://n1?x=1' }, /takes no query string/],
    [{ REDIS_URL: 'redis+cluster://n1:0' }, /port 0 of "n1:0" is not 1–65535/],
    [{ REDIS_URL: 'redis://:a@cache', REDIS_PASSWORD: 'b' }, /different passwords: set one/],
    [{ REDIS_SENTINELS: 's1,,s2', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS has an empty entry/],
    [{ REDIS_SENTINELS: 's1' }, /REDIS_SENTINELS: name the master/],
    [{ REDIS_CLUSTER_NODES: 'n1:port' }, /REDIS_CLUSTER_NODES: "n1:port" is not host:port/],
    [{ REDIS_URL: 'redis://cache', REDIS_CLUSTER_NODES: 'n1' }, /only one of .*\(got REDIS_URL, REDIS_CLUSTER_NODES\)/],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, /REDIS_SENTINEL_NAME is set, but Redis is not Sentinel/],
    [{ REDIS_CLUSTER_NODES: 'n1', REDIS_SENTINEL_PASSWORD: 'x' }, /REDIS_SENTINEL_PASSWORD is set/],
  ])('refuses %j with a clear message', (env, message) => {
    expect(() => redisEndpointFromEnv(env)).toThrow(ConfigError);
    expect(() => redisEndpointFromEnv(env)).toThrow(message);
  });

  it('never puts a password in an error or a description', () => {
    expect(() => redisEndpointFromEnv({ REDIS_URL: 'redis+sentinel://:hunter2@s1' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') as unknown }),
    );
    expect(describeRedisEndpoint(redisEndpointFromEnv({ REDIS_URL: 'redis://:hunter2@cache:6379' }))).toBe(
      'redis://cache:6379',
    );
    expect(
      describeRedisEndpoint(redisEndpointFromEnv({ REDIS_URL: 'redis+sentinel://:hunter2@s1,[::1]:26380/mymaster' })),
    ).toBe('sentinel master mymaster via s1:26379,[::1]:26380');
    expect(
      describeRedisEndpoint(redisEndpointFromEnv({ REDIS_CLUSTER_NODES: 'n1,n2:7000', REDIS_PASSWORD: 'x' })),
    ).toBe('cluster via n1:6379,n2:7000');
  });
});
