// Flagship as the benchmark runs it: the API and N worker processes (and, for the second
// origin row, the Flagship origin service), each started from its main.ts with the same
// environment variables as in docker-compose.yml and the worker image's node flags (read
// from the Dockerfile, so the benchmark measures the production settings), LOG_LEVEL=warn
// so logging is not what is measured. Workers can be replaced between scenarios (another
// origin, another count).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports.ts';
import { startServiceProcess, type ServiceProcess } from './service-process.ts';

export interface FlagshipStackOptions {
  repoRoot: string;
  redisUrl: string;
  downloadsDir: string;
  logDir: string;
  /** Extra node flags for the worker processes (profiling), after the image's own (so they win). */
  workerNodeArgs?: readonly string[];
  /** Worker environment beyond the defaults (experiments), e.g. WORKER_CONCURRENCY. */
  workerEnv?: Readonly<Record<string, string>>;
  /** Extra node flags for the API process (profiling). */
  apiNodeArgs?: readonly string[];
  /** API environment beyond the defaults (experiments), e.g. METRICS_ENABLED. */
  apiEnv?: Readonly<Record<string, string>>;
}

export interface FlagshipStack {
  /** http://127.0.0.1:PORT */
  apiUrl: string;
  /** Host pid of the API process. */
  apiPid: number;
  /** The node flags of the worker image (Dockerfile) that every worker process starts with. */
  imageWorkerNodeArgs: readonly string[];
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
      ...options.apiEnv,
    },
    readyUrl: `http://127.0.0.1:${apiPort}/readyz`,
    logDir: options.logDir,
    nodeArgs: options.apiNodeArgs ?? [],
  });
  let workers: ServiceProcess[] = [];
  let started = 0;
  const imageWorkerNodeArgs = imageNodeArgs(readFileSync(path.join(options.repoRoot, 'Dockerfile'), 'utf8'), 'worker');

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
      nodeArgs: [...imageWorkerNodeArgs, ...(options.workerNodeArgs ?? [])],
    });
  }

  const stack: FlagshipStack = {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    apiPid: api.pid,
    imageWorkerNodeArgs,
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

/**
 * The node flags in the exec-form CMD of a Dockerfile stage (`FROM … AS <stage>`), e.g.
 * `CMD ["node", "--max-semi-space-size=8", "services/worker/src/main.ts"]` gives
 * `['--max-semi-space-size=8']` (flags written as `--name=value`). Throws when the stage or a `node …` CMD is missing, so a
 * changed Dockerfile cannot silently benchmark other settings than production's.
 */
export function imageNodeArgs(dockerfile: string, stage: string): string[] {
  const stages = dockerfile.split(/^FROM\s+/im).slice(1);
  const body = stages.find((text) => new RegExp(`^\\S+\\s+AS\\s+${stage}\\s*$`, 'im').test(text.split('\n')[0] ?? ''));
  if (body === undefined) throw new Error(`Dockerfile: no stage "${stage}"`);
  const cmd = [...body.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].at(-1)?.[1];
  let words: unknown;
  try {
    words = cmd === undefined ? undefined : JSON.parse(cmd);
  } catch {
    words = undefined;
  }
  if (!Array.isArray(words) || words[0] !== 'node' || !words.every((word) => typeof word === 'string')) {
    throw new Error(`Dockerfile: stage "${stage}" has no exec-form CMD ["node", …]`);
  }
  const args = (words as string[]).slice(1);
  const script = args.findIndex((word) => !word.startsWith('-'));
  return script === -1 ? args : args.slice(0, script);
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
