// Where Redis is, read from the environment: one node (REDIS_URL, as before), a master
// watched by Redis Sentinel (a `redis+sentinel://` REDIS_URL, or REDIS_SENTINELS with
// REDIS_SENTINEL_NAME), or a Redis Cluster (a `redis+cluster://` REDIS_URL, or
// REDIS_CLUSTER_NODES). Pure parsing, so that a service's loadConfig refuses a bad
// setting at start with a message naming the variable; the connections are built from
// the result by `@flagship/common/redis` (redis-client.ts), which alone loads ioredis.
import { ConfigError } from '@flagship/runtime';
import type { Cluster, Redis } from 'ioredis';
import { Type } from 'typebox';

/** A connection to Flagship's Redis: one node or a Sentinel-watched master (Redis), or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
}

export interface StandaloneEndpoint extends Credentials {
  mode: 'standalone';
  /** A redis:// or rediss:// URL, given to ioredis as it is. */
  url: string;
}

export interface SentinelEndpoint extends Credentials {
  mode: 'sentinel';
  sentinels: HostPort[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  masterName: string;
  /** The sentinels' own password (their `requirepass`), when they ask for one. */
  sentinelPassword?: string;
  /** TLS to the sentinels and to the master (`rediss+sentinel://`). */
  tls: boolean;
}

export interface ClusterEndpoint extends Credentials {
  mode: 'cluster';
  /** Seed nodes: ioredis learns the others and the slot map from them. */
  nodes: HostPort[];
  tls: boolean;
}

export type RedisEndpoint = StandaloneEndpoint | SentinelEndpoint | ClusterEndpoint;

export const DEFAULT_REDIS_URL = 'redis://localhost:6379';
const DEFAULT_PORT = { standalone: 6379, sentinel: 26379, cluster: 6379 } as const;

/** The variables every Redis-using service reads; spread into its env schema (by serviceEnvSchema). */
export const RedisEnvSchema = {
  REDIS_URL: Type.Optional(
    Type.String({
      description:
        `Redis holding the queues (default ${DEFAULT_REDIS_URL}): redis:// or rediss:// for one node, ` +
        'redis+sentinel://[:password@]host:port,…/<master name> for Sentinel, redis+cluster://[:password@]host:port,… for a Cluster',
    }),
  ),
  REDIS_SENTINELS: Type.Optional(
    Type.String({ description: 'Sentinels as host:port,host:port (instead of REDIS_URL); needs REDIS_SENTINEL_NAME' }),
  ),
  REDIS_SENTINEL_NAME: Type.Optional(Type.String({ description: 'The master name the sentinels watch' })),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ description: "The sentinels' own password, if they ask one" })),
  REDIS_CLUSTER_NODES: Type.Optional(
    Type.String({ description: 'Redis Cluster seed nodes as host:port,host:port (instead of REDIS_URL)' }),
  ),
  REDIS_USERNAME: Type.Optional(Type.String({ description: 'Redis ACL user, when the URL names none' })),
  REDIS_PASSWORD: Type.Optional(Type.String({ description: 'Redis password, when the URL gives none' })),
};

export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
}

function fail(message: string): never {
  throw new ConfigError(`invalid configuration: ${message}`);
}

const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** `host:port,host:port` (IPv6 as `[::1]:port`); a missing port is `defaultPort`. */
export function parseHostList(variable: string, list: string, defaultPort: number): HostPort[] {
  const entries = list.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) fail(`${variable} has an empty entry: ${JSON.stringify(list)}`);
  return entries.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (match === null) fail(`${variable}: ${JSON.stringify(entry)} is not host:port`);
    const port = match[2] === undefined ? defaultPort : Number(match[2]);
    if (port < 1 || port > 65_535) fail(`${variable}: port ${port} of ${JSON.stringify(entry)} is not 1–65535`);
    return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
  });
}

interface ParsedUrl extends Credentials {
  scheme: 'redis' | 'rediss';
  kind: 'standalone' | 'sentinel' | 'cluster';
  hosts: string;
  path: string;
}

/** The URL's parts; a password is never echoed back in an error. */
function parseRedisUrl(url: string): ParsedUrl {
  const match =
    /^(rediss?)(\+sentinel|\+cluster)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (match === null) {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? 'no scheme';
    fail(
      `REDIS_URL (${scheme}) is not a Redis URL: use redis:// or rediss:// (one node), ` +
        'redis+sentinel://host:port,…/<master name> or redis+cluster://host:port,…',
    );
  }
  const [, scheme, kind, username, password, hosts, path, query] = match;
  if (kind !== undefined && query !== undefined) fail(`REDIS_URL: redis${kind}:// takes no query string`);
  const decode = (part: string | undefined) => (part ? decodeURIComponent(part) : undefined);
  return {
    scheme: scheme as ParsedUrl['scheme'],
    kind: kind === '+sentinel' ? 'sentinel' : kind === '+cluster' ? 'cluster' : 'standalone',
    hosts: hosts as string,
    path: path ?? '',
    ...(decode(username) ? { username: decode(username) } : {}),
    ...(decode(password) ? { password: decode(password) } : {}),
  };
}

/** Credentials from the URL, else from REDIS_USERNAME/REDIS_PASSWORD; both set and different is an error. */
function credentials(fromUrl: Credentials, env: RedisEnv): Credentials {
  const pick = (name: 'username' | 'password', variable: 'REDIS_USERNAME' | 'REDIS_PASSWORD') => {
    const inUrl = fromUrl[name];
    const inEnv = env[variable];
    if (inUrl !== undefined && inEnv !== undefined && inUrl !== inEnv)
      fail(`REDIS_URL and ${variable} give different ${name}s: set one`);
    const value = inUrl ?? inEnv;
    return value === undefined ? {} : { [name]: value };
  };
  return { ...pick('username', 'REDIS_USERNAME'), ...pick('password', 'REDIS_PASSWORD') };
}

function fromUrl(url: string, env: RedisEnv): RedisEndpoint {
  const parsed = parseRedisUrl(url);
  const creds = credentials(parsed, env);
  const tls = parsed.scheme === 'rediss';
  if (parsed.kind === 'standalone') {
    if (parsed.hosts.includes(',')) fail('REDIS_URL names several hosts: use redis+sentinel:// or redis+cluster://');
    return { mode: 'standalone', url, ...creds };
  }
  if (parsed.hosts === '') fail(`REDIS_URL names no ${parsed.kind === 'sentinel' ? 'sentinel' : 'node'}`);
  if (parsed.kind === 'cluster') {
    if (parsed.path !== '' && parsed.path !== '/') fail('REDIS_URL: a Redis Cluster has only database 0 (no path)');
    return { mode: 'cluster', nodes: parseHostList('REDIS_URL', parsed.hosts, DEFAULT_PORT.cluster), tls, ...creds };
  }
  const nameInUrl = parsed.path.replace(/^\//, '');
  if (nameInUrl !== '' && env.REDIS_SENTINEL_NAME !== undefined && nameInUrl !== env.REDIS_SENTINEL_NAME)
    fail('REDIS_URL and REDIS_SENTINEL_NAME name different masters: set one');
  return sentinelEndpoint(
    'REDIS_URL',
    parseHostList('REDIS_URL', parsed.hosts, DEFAULT_PORT.sentinel),
    nameInUrl || env.REDIS_SENTINEL_NAME,
    tls,
    creds,
    env,
  );
}

function sentinelEndpoint(
  variable: string,
  sentinels: HostPort[],
  masterName: string | undefined,
  tls: boolean,
  creds: Credentials,
  env: RedisEnv,
): SentinelEndpoint {
  if (masterName === undefined || masterName === '')
    fail(`${variable}: name the master (redis+sentinel://host:port,…/<master name>, or REDIS_SENTINEL_NAME)`);
  if (!MASTER_NAME.test(masterName))
    fail(`the Sentinel master name ${JSON.stringify(masterName)} is not 1–128 of A-Z a-z 0-9 . _ -`);
  return {
    mode: 'sentinel',
    sentinels,
    masterName,
    tls,
    ...creds,
    ...(env.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: env.REDIS_SENTINEL_PASSWORD }),
  };
}

/**
 * The Redis endpoint the variables describe. Exactly one of REDIS_URL, REDIS_SENTINELS
 * and REDIS_CLUSTER_NODES (none: REDIS_URL's default); an unset or empty variable
 * counts as absent (loadEnv drops empty ones).
 */
export function redisEndpointFromEnv(env: RedisEnv): Readonly<RedisEndpoint> {
  const given = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter(
    (name) => env[name] !== undefined,
  );
  if (given.length > 1)
    fail(`set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES (got ${given.join(', ')})`);
  let endpoint: RedisEndpoint;
  if (env.REDIS_SENTINELS !== undefined) {
    endpoint = sentinelEndpoint(
      'REDIS_SENTINELS',
      parseHostList('REDIS_SENTINELS', env.REDIS_SENTINELS, DEFAULT_PORT.sentinel),
      env.REDIS_SENTINEL_NAME,
      false,
      credentials({}, env),
      env,
    );
  } else if (env.REDIS_CLUSTER_NODES !== undefined) {
    const nodes = parseHostList('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES, DEFAULT_PORT.cluster);
    endpoint = { mode: 'cluster', nodes, tls: false, ...credentials({}, env) };
  } else {
    endpoint = fromUrl(env.REDIS_URL ?? DEFAULT_REDIS_URL, env);
  }
  if (endpoint.mode !== 'sentinel') {
    if (env.REDIS_SENTINEL_NAME !== undefined) fail('REDIS_SENTINEL_NAME is set, but Redis is not Sentinel');
    if (env.REDIS_SENTINEL_PASSWORD !== undefined) fail('REDIS_SENTINEL_PASSWORD is set, but Redis is not Sentinel');
  }
  return Object.freeze(endpoint);
}

/** For logs: where Redis is, without any password. */
export function describeRedisEndpoint(endpoint: RedisEndpoint): string {
  const hosts = (list: HostPort[]) =>
    list.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
  switch (endpoint.mode) {
    case 'standalone':
      return endpoint.url.replace(/\/\/[^@/]*@/, '//');
    case 'sentinel':
      return `sentinel master ${endpoint.masterName} via ${hosts(endpoint.sentinels)}${endpoint.tls ? ' (tls)' : ''}`;
    case 'cluster':
      return `cluster via ${hosts(endpoint.nodes)}${endpoint.tls ? ' (tls)' : ''}`;
  }
}
