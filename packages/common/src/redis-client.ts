// The one place Flagship's Redis connections are made, as `@flagship/common/redis`: a
// separate entry point because it loads ioredis, which the CLI and the origin (users of
// the package's main entry) must not. Every connection the API and the workers open
// comes from here, or is a duplicate of one that did (BullMQ's blocking connections,
// the QueueEvents readers, the cancel subscriber), so one REDIS_* setting moves them all
// to one node, a Sentinel-watched master or a Cluster.
import { Cluster, Redis, type ClusterOptions, type NatMap, type RedisOptions } from 'ioredis';
import { redisOptions, type RedisRole } from './queues.ts';
import type { ClusterEndpoint, HostPort, RedisClient, RedisEndpoint, SentinelEndpoint } from './redis-endpoint.ts';

export interface RedisClientOverrides {
  /**
   * Addresses as Redis announces them (`ip:port`) → as this process reaches them. For
   * Sentinel and Cluster behind NAT or Docker port mappings (the tests' containers).
   */
  natMap?: NatMap;
  /** Instead of `flagship-<role>`. */
  connectionName?: string;
}

export function isRedisCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/** What createRedisClient gives ioredis: a Redis (URL and/or options) or a Cluster (seed nodes and options). */
export type RedisClientSpec =
  | { kind: 'redis'; url?: string; options: RedisOptions }
  | { kind: 'cluster'; nodes: HostPort[]; options: ClusterOptions };

/** The ioredis arguments for a connection to `endpoint` with the settings of `role` (redisOptions in queues.ts). */
export function redisClientSpec(
  endpoint: RedisEndpoint,
  role: RedisRole,
  overrides: RedisClientOverrides = {},
): RedisClientSpec {
  const options: RedisOptions = {
    ...redisOptions(role),
    ...(overrides.connectionName === undefined ? {} : { connectionName: overrides.connectionName }),
    ...(endpoint.username === undefined ? {} : { username: endpoint.username }),
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
  };
  switch (endpoint.mode) {
    case 'standalone':
      // Credentials in the URL are the endpoint's own; REDIS_USERNAME/REDIS_PASSWORD fill in what it lacks.
      return { kind: 'redis', url: endpoint.url, options };
    case 'sentinel':
      return { kind: 'redis', options: { ...options, ...sentinelOptions(endpoint, overrides.natMap) } };
    case 'cluster':
      return {
        kind: 'cluster',
        nodes: endpoint.nodes,
        options: clusterOptions(endpoint, role, options, overrides.natMap),
      };
  }
}

/** A new connection to `endpoint` with the settings of `role`; it starts connecting at once. */
export function createRedisClient(
  endpoint: RedisEndpoint,
  role: RedisRole,
  overrides: RedisClientOverrides = {},
): RedisClient {
  const spec = redisClientSpec(endpoint, role, overrides);
  if (spec.kind === 'cluster') return new Cluster(spec.nodes, spec.options);
  return spec.url === undefined ? new Redis(spec.options) : new Redis(spec.url, spec.options);
}

function sentinelOptions(endpoint: SentinelEndpoint, natMap: NatMap | undefined): RedisOptions {
  return {
    sentinels: endpoint.sentinels,
    name: endpoint.masterName,
    ...(endpoint.sentinelPassword === undefined ? {} : { sentinelPassword: endpoint.sentinelPassword }),
    ...(endpoint.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    ...(natMap === undefined ? {} : { natMap }),
    // Subscribes to the sentinels' +switch-master: a master that is cut off (not dead,
    // so its socket does not close) is left as soon as the sentinels replace it.
    failoverDetector: true,
  };
}

/**
 * The role's options go to every node; the offline queue and the reconnect policy are
 * the Cluster's own (a node's connection does not retry by itself inside a Cluster).
 */
function clusterOptions(
  endpoint: ClusterEndpoint,
  role: RedisRole,
  nodeOptions: RedisOptions,
  natMap: NatMap | undefined,
): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, ...perNode } = nodeOptions;
  return {
    redisOptions: { ...perNode, ...(endpoint.tls ? { tls: {} } : {}) },
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
    ...(natMap === undefined ? {} : { natMap }),
    // Writes go to masters only (BullMQ reads what it just wrote).
    scaleReads: 'master',
    // A producer fails fast while the slot map is being refreshed, like a down node.
    ...(role === 'producer' ? { slotsRefreshTimeout: 2_000 } : {}),
  };
}

/**
 * Another connection like `client` (same endpoint, role settings and NAT map) under
 * another name: ioredis's duplicate, whose arguments differ between Redis and Cluster.
 */
export function duplicateRedisClient(client: RedisClient, connectionName: string): RedisClient {
  if (isRedisCluster(client)) {
    return client.duplicate([], { redisOptions: { ...client.options.redisOptions, connectionName } });
  }
  return client.duplicate({ connectionName });
}
