import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, duplicateRedisClient, isRedisCluster, redisClientSpec } from './redis-client.ts';
import type { RedisClient } from './redis-endpoint.ts';
import { redisEndpointFromEnv } from './redis-endpoint.ts';

const opened: RedisClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.disconnect();
});

describe('redisClientSpec', () => {
  it('gives one node its URL and the role’s options', () => {
    const spec = redisClientSpec(redisEndpointFromEnv({ REDIS_URL: 'redis://cache:6379' }), 'producer');
    expect(spec).toMatchObject({
      kind: 'redis',
      url: 'redis://cache:6379',
      options: { connectionName: 'flagship-producer', enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    });
  });

  it('asks the sentinels for the master, with both passwords, TLS and the NAT map', () => {
    const endpoint = redisEndpointFromEnv({
      REDIS_URL: 'rediss+sentinel://:pw@s1:26379,s2:26379/mymaster',
      REDIS_SENTINEL_PASSWORD: 'spw',
    });
    const natMap = { '172.18.0.2:6379': { host: '127.0.0.1', port: 32768 } };
    const spec = redisClientSpec(endpoint, 'worker', { natMap });
    expect(spec.kind).toBe('redis');
    expect(spec).not.toHaveProperty('url');
    expect(spec.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      password: 'pw',
      sentinelPassword: 'spw',
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
      natMap,
      failoverDetector: true,
      maxRetriesPerRequest: null,
      connectionName: 'flagship-worker',
    });
  });

  it('puts the role’s options on every Cluster node, and the offline queue and reconnects on the Cluster', () => {
    const endpoint = redisEndpointFromEnv({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', REDIS_PASSWORD: 'pw' });
    const producer = redisClientSpec(endpoint, 'producer');
    expect(producer).toMatchObject({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      options: {
        enableOfflineQueue: false,
        scaleReads: 'master',
        redisOptions: { password: 'pw', maxRetriesPerRequest: 1, connectionName: 'flagship-producer' },
      },
    });
    expect(producer.options).not.toHaveProperty('redisOptions.enableOfflineQueue');
    const worker = redisClientSpec(endpoint, 'worker');
    expect(worker.options).toMatchObject({ redisOptions: { maxRetriesPerRequest: null } });
    expect(worker.options).toHaveProperty('clusterRetryStrategy');
    expect(worker.options).not.toHaveProperty('redisOptions.retryStrategy');
  });
});

describe('createRedisClient and duplicateRedisClient', () => {
  it('make a Redis for one node and Sentinel, a Cluster for a Cluster, and duplicates keep the kind', () => {
    const one = createRedisClient(redisEndpointFromEnv({ REDIS_URL: 'redis://127.0.0.1:1' }), 'events');
    const cluster = createRedisClient(redisEndpointFromEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:1' }), 'events');
    opened.push(one, cluster);
    for (const client of opened) client.on('error', () => {});
    expect(one).toBeInstanceOf(Redis);
    expect(isRedisCluster(one)).toBe(false);
    expect(cluster).toBeInstanceOf(Cluster);
    expect(isRedisCluster(cluster)).toBe(true);

    const copy = duplicateRedisClient(cluster, 'flagship-copy');
    opened.push(copy);
    copy.on('error', () => {});
    expect(isRedisCluster(copy)).toBe(true);
    expect((copy as Cluster).options.redisOptions).toMatchObject({
      connectionName: 'flagship-copy',
      maxRetriesPerRequest: null,
    });
    const oneCopy = duplicateRedisClient(one, 'flagship-copy');
    opened.push(oneCopy);
    oneCopy.on('error', () => {});
    expect((oneCopy as Redis).options).toMatchObject({ connectionName: 'flagship-copy', port: 1 });
  });
});
