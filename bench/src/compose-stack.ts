// Flagship as users deploy it: the real docker-compose.yml, run by `docker compose` under
// a project name of the benchmark's own, with bench/compose/bench.override.yml on top
// (image names of the benchmark's own; nothing else about the services changes). The
// compose file's own variables point the worker at the bench's nginx (ORIGIN_URL) and
// publish the API on a free loopback port (API_PORT=127.0.0.1:0). The harness reaches
// the API through that published port (docker-proxy, as users do) and, for comparison,
// at the container's address; it reads Redis at the container's address (with the
// stack's REDIS_PASSWORD) and empties the downloads volume from the host, where Docker
// keeps it.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { childPids, findProcesses } from './proc.ts';

const run = promisify(execFile);

export interface ComposeStackOptions {
  repoRoot: string;
  /** `docker compose -p` name; also prefixes the stack's volumes. */
  project: string;
  /** The worker's ORIGIN_URL (the bench's nginx, reachable from containers). */
  originUrl: string;
  logDir: string;
  log(line: string): void;
}

/** A different worker (or API) for one measurement: more compose files, more variables. */
export interface StackVariant {
  /** Compose files applied after the bench override, e.g. the profiling override. */
  files?: readonly string[];
  /** Variables for the compose files' interpolation. */
  env?: Readonly<Record<string, string>>;
}

export interface ComposeContainer {
  id: string;
  name: string;
  /** Host pid of the container's first process (docker-init: the services run with `init: true`). */
  initPid: number;
  /** Address on the project's network. */
  ip: string;
}

export interface ComposeStack {
  project: string;
  /** The published port, through docker-proxy: http://127.0.0.1:PORT */
  apiUrl(): string;
  /** The API container's own address (no docker-proxy): http://IP:3000 */
  apiDirectUrl(): string;
  /** redis://:PASSWORD@IP:6379 (the container's address). */
  redisUrl: string;
  /** Host folder of the downloads volume (Docker's mount point of it). */
  downloadsDir: string;
  /** Host folder of a second volume of the benchmark's own, on the same file system: the peers write there. */
  peersDir: string;
  /** Recreate the worker service with `count` fresh containers (and `variant`). */
  setWorkers(count: number, variant?: StackVariant): Promise<void>;
  /** Recreate these services (not their dependencies; one worker) with `variant`; the API's port may change. */
  recreate(services: readonly string[], variant?: StackVariant): Promise<void>;
  /** `up --wait` calls that had to wait again (a service reported unhealthy). */
  upRetries(): number;
  /** `docker compose stop` (SIGTERM, the services' graceful shutdown). */
  stop(service: string): Promise<void>;
  containers(service: string): Promise<ComposeContainer[]>;
  /** Host pid of the service's main process in `container` (the child of docker-init). */
  mainPid(container: ComposeContainer): Promise<number>;
  /** Host pid of the docker-proxy that serves the API's published port, if there is one. */
  dockerProxyPid(): Promise<number | undefined>;
  /** Everything down, volumes removed; the services' logs kept in logDir. Safe twice. */
  down(): Promise<void>;
}

export const BENCH_OVERRIDE = 'bench/compose/bench.override.yml';
/**
 * The stack's Redis password, set rather than left to the compose default so that a
 * REDIS_PASSWORD in the caller's environment cannot differ from the one the harness sends.
 */
const BENCH_REDIS_PASSWORD = 'flagship-bench';
/** Services the benchmark starts: redis, api, worker (origin comes as the worker's dependency; echo stays off). */
const SERVICES = ['redis', 'api', 'worker'];

/** `docker compose port api 3000` prints `127.0.0.1:32768` (or `[::]:32768`). */
export function parsePublishedPort(output: string): { host: string; port: number } {
  const match = /^\s*(\[[^\]]+\]|[^\s:]+):(\d+)\s*$/.exec(output);
  if (match === null) throw new Error(`docker compose port printed "${output.trim()}", not HOST:PORT`);
  const host = (match[1] as string).replace(/^\[|\]$/g, '');
  return { host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port: Number(match[2]) };
}

/** The docker-proxy serving `port`: its argv has `-host-port PORT`. */
export function isDockerProxyFor(words: readonly string[], port: number): boolean {
  if (!(words[0] ?? '').endsWith('docker-proxy')) return false;
  const at = words.indexOf('-host-port');
  return at !== -1 && words[at + 1] === String(port);
}

export async function startComposeStack(options: ComposeStackOptions): Promise<ComposeStack> {
  const { project, repoRoot, log } = options;
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    API_PORT: '127.0.0.1:0',
    ORIGIN_URL: options.originUrl,
    REDIS_PASSWORD: BENCH_REDIS_PASSWORD,
    // Open, as the compose file starts with nothing set: the client sends no key.
    API_KEYS: '',
  };
  const peersVolume = `${project}_bench-peers`;
  let downed = false;
  let upRetries = 0;

  async function docker(args: readonly string[], timeoutMs = 120_000, env = baseEnv): Promise<string> {
    try {
      const { stdout } = await run('docker', [...args], {
        cwd: repoRoot,
        env,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const failure = error as { stderr?: string; message: string };
      throw new Error(`docker ${args.join(' ')}: ${(failure.stderr ?? '').trim().slice(-1500) || failure.message}`, {
        cause: error,
      });
    }
  }

  function compose(args: readonly string[], variant: StackVariant = {}, timeoutMs?: number): Promise<string> {
    const files = ['docker-compose.yml', BENCH_OVERRIDE, ...(variant.files ?? [])].flatMap((file) => ['-f', file]);
    return docker(['compose', '-p', project, ...files, ...args], timeoutMs, { ...baseEnv, ...variant.env });
  }

  /**
   * `docker compose up -d --wait …`, tried up to 3 times: on a loaded machine a Node
   * healthcheck can time out often enough for a healthy service to be reported unhealthy
   * (measured and reported by the compose scenario); a second wait usually sees it healthy.
   */
  async function up(args: readonly string[], variant: StackVariant = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await compose(['up', '-d', '--wait', ...args], variant, 300_000);
        return;
      } catch (error) {
        if (attempt === 3) throw error;
        upRetries += 1;
        log(
          `compose up failed (${
            String((error as Error).message)
              .split('\n')
              .at(-2) ?? ''
          }); waiting again`,
        );
      }
    }
  }

  async function inspect(id: string): Promise<ComposeContainer> {
    const format = '{{.Id}} {{.Name}} {{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}';
    const [fullId, name, pid, ip] = (await docker(['inspect', '-f', format, id])).trim().split(/\s+/);
    if (fullId === undefined || name === undefined || ip === undefined)
      throw new Error(`docker inspect ${id}: no address`);
    return { id: fullId, name: name.replace(/^\//, ''), initPid: Number(pid), ip };
  }

  async function containers(service: string): Promise<ComposeContainer[]> {
    const ids = (await compose(['ps', '-q', service])).split(/\s+/).filter((id) => id !== '');
    return Promise.all(ids.map(inspect));
  }

  let apiUrl = '';
  let apiDirectUrl = '';
  async function readApiAddresses(): Promise<void> {
    const published = parsePublishedPort(await compose(['port', 'api', '3000']));
    apiUrl = `http://${published.host}:${published.port}`;
    const [api] = await containers('api');
    if (api === undefined) throw new Error('no api container');
    apiDirectUrl = `http://${api.ip}:3000`;
  }

  async function down(): Promise<void> {
    if (downed) return;
    downed = true;
    await mkdir(options.logDir, { recursive: true });
    const logs = await compose(['logs', '--no-color', '--timestamps'], {}, 60_000).catch((error: unknown) =>
      String(error),
    );
    await writeFile(path.join(options.logDir, `${project}.log`), logs);
    await compose(['down', '-v', '--remove-orphans', '-t', '10'], {}, 120_000);
    await docker(['volume', 'rm', '-f', peersVolume]);
  }

  log(`compose: building the images (docker compose build; cached after the first time)`);
  await compose(['build', '--quiet', 'api', 'worker', 'origin'], {}, 900_000);
  try {
    const started = performance.now();
    await up(SERVICES);
    log(`compose: project ${project} up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await readApiAddresses();
    const [redis] = await containers('redis');
    if (redis === undefined) throw new Error('no redis container');
    const volumePath = async (name: string) =>
      (await docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', name])).trim();
    const downloadsDir = await volumePath(`${project}_downloads`);
    await docker(['volume', 'create', '--label', 'flagship.bench=peers', peersVolume]);
    const peersDir = await volumePath(peersVolume);

    return {
      project,
      apiUrl: () => apiUrl,
      apiDirectUrl: () => apiDirectUrl,
      redisUrl: `redis://:${BENCH_REDIS_PASSWORD}@${redis.ip}:6379`,
      downloadsDir,
      peersDir,
      async setWorkers(count, variant = {}) {
        await up(['--no-deps', '--force-recreate', '--scale', `worker=${count}`, 'worker'], variant);
      },
      async recreate(services, variant = {}) {
        const scale = services.includes('worker') ? ['--scale', 'worker=1'] : [];
        await up(['--no-deps', '--force-recreate', ...scale, ...services], variant);
        await readApiAddresses();
      },
      async stop(service) {
        await compose(['stop', '-t', '30', service], {}, 120_000);
      },
      containers,
      upRetries: () => upRetries,
      async mainPid(container) {
        const [child] = await childPids(container.initPid);
        return child ?? container.initPid;
      },
      async dockerProxyPid() {
        const port = Number(new URL(apiUrl).port);
        const [pid] = await findProcesses((words) => isDockerProxyFor(words, port));
        return pid;
      },
      down,
    };
  } catch (error) {
    await down().catch((downError: unknown) => log(`compose down: ${String(downError)}`));
    throw error;
  }
}
