// Redis for the benchmark: a container from $REDIS_IMAGE (never pulled), configured as
// in docker-compose.yml (AOF on, noeviction), reached at the container's own address
// rather than a published port, since docker-proxy spends CPU on every packet
// (docs/decisions.md, "Docker on machines without a registry"). An admin connection
// flushes it between scenarios and reads per-command statistics.
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { Redis } from 'ioredis';

export interface BenchRedis {
  /** redis://CONTAINER_IP:6379 */
  url: string;
  version: string;
  /** The container's full id (its cgroup has Redis's CPU time). */
  containerId: string;
  /** Empty every database (between scenarios, so one cannot slow the next). */
  flushAll(): Promise<void>;
  /** Zero the command counters (CONFIG RESETSTAT). */
  resetStats(): Promise<void>;
  /** Calls per command since the last reset, from INFO commandstats (script-internal calls included). */
  commandCalls(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+),/.exec(line);
    if (match !== null) calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

export async function startRedis(image: string): Promise<BenchRedis> {
  const container: StartedTestContainer = await new GenericContainer(image)
    .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
    .withExposedPorts(6379)
    .withLabels({ 'flagship.bench': 'redis' })
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  const network = container.getNetworkNames()[0];
  if (network === undefined) {
    await container.stop();
    throw new Error('the Redis container has no network');
  }
  const url = `redis://${container.getIpAddress(network)}:6379`;
  const admin = new Redis(url, { connectionName: 'flagship-bench-admin', maxRetriesPerRequest: 1 });
  const info = await admin.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url,
    version,
    containerId: container.getId(),
    async flushAll() {
      await admin.flushall();
    },
    async resetStats() {
      await admin.config('RESETSTAT');
    },
    async commandCalls() {
      return parseCommandStats(await admin.info('commandstats'));
    },
    async close() {
      await admin.quit().catch(() => admin.disconnect());
      await container.stop({ timeout: 1_000 });
    },
  };
}
