// Flagship as the benchmark runs it: the API and N worker processes (and, for the second
// origin row, the Flagship origin service), each started from its main.ts with the same
// environment variables as in docker-compose.yml, LOG_LEVEL=warn so logging is not what
// is measured. Workers can be replaced between scenarios (another origin, another count).
import path from 'node:path';
import { freePort } from './ports.ts';
import { startServiceProcess, type ServiceProcess } from './service-process.ts';

export interface FlagshipStackOptions {
  repoRoot: string;
  redisUrl: string;
  downloadsDir: string;
  logDir: string;
  /** Extra node flags for the worker processes (profiling). */
  workerNodeArgs?: readonly string[];
  /** Worker environment beyond the defaults (experiments), e.g. WORKER_CONCURRENCY. */
  workerEnv?: Readonly<Record<string, string>>;
  /** Extra node flags for the API process (profiling). */
  apiNodeArgs?: readonly string[];
}

export interface FlagshipStack {
  /** http://127.0.0.1:PORT */
  apiUrl: string;
  workers(): readonly ServiceProcess[];
  /** Stop every worker, then start `count` fresh ones downloading from `originUrl`. */
  setWorkers(count: number, originUrl: string): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

const LOG_LEVEL = 'warn';

export async function startFlagshipStack(options: FlagshipStackOptions): Promise<FlagshipStack> {
  const apiPort = await freePort();
  const api = await startServiceProcess({
    name: 'api',
    script: path.join(options.repoRoot, 'services/api/src/main.ts'),
    env: {
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      REDIS_URL: options.redisUrl,
      DOWNLOADS_DIR: options.downloadsDir,
      LOG_LEVEL,
    },
    readyUrl: `http://127.0.0.1:${apiPort}/readyz`,
    logDir: options.logDir,
    nodeArgs: options.apiNodeArgs ?? [],
  });
  let workers: ServiceProcess[] = [];
  let started = 0;

  async function startWorker(originUrl: string): Promise<ServiceProcess> {
    const healthPort = await freePort();
    started += 1;
    return startServiceProcess({
      name: `worker-${started}`,
      script: path.join(options.repoRoot, 'services/worker/src/main.ts'),
      env: {
        REDIS_URL: options.redisUrl,
        ORIGIN_URL: originUrl,
        DOWNLOADS_DIR: options.downloadsDir,
        WORKER_HEALTH_PORT: String(healthPort),
        LOG_LEVEL,
        ...options.workerEnv,
      },
      readyUrl: `http://127.0.0.1:${healthPort}/healthz`,
      logDir: options.logDir,
      nodeArgs: options.workerNodeArgs ?? [],
    });
  }

  const stack: FlagshipStack = {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    workers: () => workers,
    async setWorkers(count, originUrl) {
      await stack.stopWorkers();
      // One after another: two Node start-ups at once on 2 cores only slow each other.
      for (let i = 0; i < count; i++) workers.push(await startWorker(originUrl));
    },
    async stopWorkers() {
      await Promise.all(workers.map((worker) => worker.stop()));
      workers = [];
    },
    async close() {
      await stack.stopWorkers();
      await api.stop();
    },
  };
  return stack;
}

export interface OriginService {
  flagsUrl: string;
  close(): Promise<void>;
}

/** The Flagship origin service (services/origin), serving the same data set as nginx. */
export async function startOriginService(options: {
  repoRoot: string;
  dataDir: string;
  logDir: string;
}): Promise<OriginService> {
  const port = await freePort();
  const origin = await startServiceProcess({
    name: 'origin',
    script: path.join(options.repoRoot, 'services/origin/src/main.ts'),
    env: { ORIGIN_PORT: String(port), ORIGIN_HOST: '127.0.0.1', ORIGIN_DATA_DIR: options.dataDir, LOG_LEVEL },
    readyUrl: `http://127.0.0.1:${port}/healthz`,
    logDir: options.logDir,
  });
  return { flagsUrl: `http://127.0.0.1:${port}/data/flags`, close: () => origin.stop() };
}
