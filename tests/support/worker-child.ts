// A worker process as main.ts builds one, for tests that kill it (SIGKILL) and start
// others: configuration from the environment, the queue prefix from TEST_PREFIX, short
// locks so that a killed worker's chunk is handed on within about a second. Prints
// `ready` once connected; takes jobs at once, or (WAIT_FOR_RUN=1, a warm spare) when the
// line `run` comes on stdin. Started by worker-process.ts.
import { createLocalFlagStore } from '@flagship/common';
import { createRedisClient } from '@flagship/common/redis';
import { silentLogger } from '@flagship/runtime';
import { createFlagWorkers, createOriginDispatcher, loadConfig } from '@flagship/worker';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const config = loadConfig(process.env);
const connection = createRedisClient(config.redis, 'worker');
connection.on('error', () => {}); // reconnects by itself
const workers = createFlagWorkers({
  config,
  connection,
  dispatcher: createOriginDispatcher(config.originPool),
  store: createLocalFlagStore(config.downloadsDir),
  logger: silentLogger(),
  prefix: process.env.TEST_PREFIX,
  progressIntervalMs: 0,
  workerSettings: { lockDuration: 1_000, stalledInterval: 200 },
});
await workers.waitUntilReady();
console.log('ready');
if (process.env.WAIT_FOR_RUN === '1') {
  const lines = createInterface({ input: process.stdin });
  while ((await once(lines, 'line'))[0] !== 'run');
}
workers.run();
