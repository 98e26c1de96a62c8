// Redis with failover and Redis Cluster in containers, from the one Redis image the other
// tests use (REDIS_IMAGE; `redis-server --sentinel` is Sentinel, `--cluster-enabled yes`
// a Cluster node). The containers share a Docker network and know each other by their
// addresses on it; Redis announces those addresses (the sentinels name the master by
// it, a Cluster's slot map lists them), which this process cannot reach. So each comes
// with a NAT map (ioredis's natMap) from `ip:port` on the network to 127.0.0.1 and the
// container's published port, which the tests hand to the connections' factory.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis, type NatMap } from 'ioredis';
import {
  GenericContainer,
  Network,
  Wait,
  getContainerRuntimeClient,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';

const IMAGE = process.env.REDIS_IMAGE ?? 'redis:7.4-alpine';
const READY = 'Ready to accept connections';
const SENTINEL_PORT = 26379;
const REDIS_PORT = 6379;

type NatEntries = Record<string, { host: string; port: number }>;

function natEntry(container: StartedTestContainer, network: StartedNetwork, port: number): NatEntries {
  return {
    [`${container.getIpAddress(network.getName())}:${port}`]: {
      host: '127.0.0.1',
      port: container.getMappedPort(port),
    },
  };
}

/** Polls `check` every 200 ms until it is true, at most `timeoutMs`; the error says what was awaited. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export interface SentinelSet {
  /** redis+sentinel://:<password>@127.0.0.1:<port>,…/<master name>: what REDIS_URL would say. */
  url: string;
  natMap: NatMap;
  masterName: string;
  /** SIGKILL the master's container: no shutdown, no last write, its port gone. */
  killMaster(): Promise<void>;
  /** The master's address as the sentinels say it, mapped to 127.0.0.1:port. */
  masterAddress(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * One master, one replica and three sentinels (quorum 2) watching it, with a password.
 * The sentinels call the master down after `downAfterMs` without an answer.
 */
export async function startSentinelSet(options: { password: string; downAfterMs?: number }): Promise<SentinelSet> {
  const { password } = options;
  const masterName = 'flagship';
  const network = await new Network().start();
  const redisNode = (args: string[]) =>
    new GenericContainer(IMAGE)
      .withNetwork(network)
      .withCommand(['redis-server', '--requirepass', password, '--masterauth', password, ...args])
      .withExposedPorts(REDIS_PORT)
      .withWaitStrategy(Wait.forLogMessage(READY))
      .start();
  // No 5 s wait before the replica's first full sync (Redis's repl-diskless-sync-delay).
  const master = await redisNode(['--repl-diskless-sync-delay', '0']);
  const masterIp = master.getIpAddress(network.getName());
  const replica = await redisNode(['--replicaof', masterIp, String(REDIS_PORT)]);
  // A replica that has not finished its first sync holds nothing: promoted then, it comes
  // up empty and every job is gone (it failed the failover test that way under load).
  // The sentinels list a replica as soon as it connects, so its own link is checked.
  const replicaAdmin = new Redis({ host: '127.0.0.1', port: replica.getMappedPort(REDIS_PORT), password });
  replicaAdmin.on('error', () => {});
  try {
    await waitFor('the replica has synced with the master', async () => {
      const info = await replicaAdmin.info('replication');
      return info.includes('master_link_status:up') && info.includes('master_sync_in_progress:0');
    });
  } finally {
    replicaAdmin.disconnect();
  }
  const config = [
    `port ${SENTINEL_PORT}`,
    'protected-mode no',
    `sentinel monitor ${masterName} ${masterIp} ${REDIS_PORT} 2`,
    `sentinel auth-pass ${masterName} ${password}`,
    `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1_000}`,
    `sentinel failover-timeout ${masterName} 10000`,
    `sentinel parallel-syncs ${masterName} 1`,
  ].join('\\n');
  // Sentinel rewrites its configuration file, so each writes its own copy first.
  const sentinels = await Promise.all(
    [0, 1, 2].map(() =>
      new GenericContainer(IMAGE)
        .withNetwork(network)
        .withCommand([
          'sh',
          '-c',
          `printf '${config}\\n' > /tmp/sentinel.conf && exec redis-server /tmp/sentinel.conf --sentinel`,
        ])
        .withExposedPorts(SENTINEL_PORT)
        .withWaitStrategy(Wait.forLogMessage(`+monitor master ${masterName}`))
        .start(),
    ),
  );
  const natMap: NatEntries = {
    ...natEntry(master, network, REDIS_PORT),
    ...natEntry(replica, network, REDIS_PORT),
    ...Object.assign({}, ...sentinels.map((sentinel) => natEntry(sentinel, network, SENTINEL_PORT))),
  };
  const admin = sentinels.map(
    (sentinel) => new Redis({ host: '127.0.0.1', port: sentinel.getMappedPort(SENTINEL_PORT), lazyConnect: true }),
  );
  for (const client of admin) client.on('error', () => {});
  // A failover needs each sentinel to know the replica and the two other sentinels.
  await waitFor('sentinels know each other and the replica', async () => {
    const views = await Promise.all(
      admin.map(async (client) => ({
        sentinels: ((await client.call('SENTINEL', 'SENTINELS', masterName)) as unknown[]).length,
        replicas: ((await client.call('SENTINEL', 'REPLICAS', masterName)) as unknown[]).length,
      })),
    );
    return views.every((view) => view.sentinels === 2 && view.replicas === 1);
  });
  const stopAll = async () => {
    for (const client of admin) client.disconnect();
    await Promise.allSettled([...sentinels, replica, master].map((container) => container.stop({ timeout: 0 })));
    await network.stop();
  };
  return {
    url: `redis+sentinel://:${password}@${sentinels.map((s) => `127.0.0.1:${s.getMappedPort(SENTINEL_PORT)}`).join(',')}/${masterName}`,
    natMap,
    masterName,
    async killMaster() {
      const client = await getContainerRuntimeClient();
      await client.container.getById(master.getId()).kill({ signal: 'SIGKILL' });
    },
    async masterAddress() {
      const [host, port] = (await admin[0]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [
        string,
        string,
      ];
      const mapped = natMap[`${host}:${port}`];
      return mapped === undefined ? `${host}:${port}` : `${mapped.host}:${mapped.port}`;
    },
    stop: stopAll,
  };
}

export interface RedisClusterSet {
  /** redis+cluster://:<password>@127.0.0.1:<port>,…: what REDIS_URL would say. */
  url: string;
  natMap: NatMap;
  /** An admin connection to the Cluster (CLUSTER KEYSLOT, COUNTKEYSINSLOT, SCAN per node). */
  admin(): Promise<Cluster>;
  stop(): Promise<void>;
}

/** `masters` Cluster nodes (no replicas), the 16384 slots shared among them, with a password. */
export async function startRedisCluster(options: { password: string; masters?: number }): Promise<RedisClusterSet> {
  const { password } = options;
  const network = await new Network().start();
  const nodes = await Promise.all(
    Array.from({ length: options.masters ?? 3 }, () =>
      new GenericContainer(IMAGE)
        .withNetwork(network)
        .withCommand([
          'redis-server',
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          '2000',
          '--requirepass',
          password,
          '--masterauth',
          password,
        ])
        .withExposedPorts(REDIS_PORT)
        .withWaitStrategy(Wait.forLogMessage(READY))
        .start(),
    ),
  );
  const addresses = nodes.map((node) => `${node.getIpAddress(network.getName())}:${REDIS_PORT}`);
  const created = await nodes[0]!.exec([
    'redis-cli',
    '-a',
    password,
    '--no-auth-warning',
    '--cluster',
    'create',
    ...addresses,
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  if (created.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${created.output}`);
  const natMap: NatEntries = Object.assign({}, ...nodes.map((node) => natEntry(node, network, REDIS_PORT)));
  const clients: Cluster[] = [];
  const admin = async () => {
    const client = new Cluster(
      nodes.map((node) => ({ host: '127.0.0.1', port: node.getMappedPort(REDIS_PORT) })),
      { natMap, redisOptions: { password } },
    );
    client.on('error', () => {});
    clients.push(client);
    // Its node list (nodes('master')) is filled in once it has the slot map.
    await once(client, 'ready');
    return client;
  };
  // Every node must see every slot served before clients are let in.
  await waitFor('the cluster is ok on every node', async () => {
    const infos = await Promise.all(
      nodes.map((node) => node.exec(['redis-cli', '-a', password, '--no-auth-warning', 'CLUSTER', 'INFO'])),
    );
    return infos.every((info) => info.output.includes('cluster_state:ok'));
  });
  return {
    url: `redis+cluster://:${password}@${nodes.map((node) => `127.0.0.1:${node.getMappedPort(REDIS_PORT)}`).join(',')}`,
    natMap,
    admin,
    async stop() {
      for (const client of clients) client.disconnect();
      await Promise.allSettled(nodes.map((node) => node.stop({ timeout: 0 })));
      await network.stop();
    },
  };
}
