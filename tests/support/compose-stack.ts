// The real docker-compose.yml under a project of its own, for the end-to-end tests (and
// the compose files laid over it or beside it, for the multi-host test and the store
// cost bench): built, started, and waited on through the services' healthchecks. When it does not
// come up, the test output gets each service's state and the last log lines of those
// that are not healthy, and the project is taken down (volumes too) before the error is
// rethrown, so a failed start leaves nothing running to slow down the tests after it.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment } from 'testcontainers';

const run = promisify(execFile);
export const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '../..');

export interface ComposeStackOptions {
  /** Prefix of the project name; a random suffix keeps runs apart. */
  name: string;
  /** Compose variables (the README's settings); NODE_IMAGE and REDIS_IMAGE are passed on. */
  environment?: Record<string, string>;
  /** Only these services (and what they depend on). Default: all. */
  services?: string[];
  /** Extra `docker compose up` options, e.g. ['--scale', 'worker=2']. */
  upOptions?: string[];
  /** Compose files, relative to the repository. Default: docker-compose.yml alone. */
  files?: string[];
  /** Build the images first. Default: true; false for a project that reuses images another one built. */
  build?: boolean;
  /** How long the services may take to be healthy. Default: 240 s (a build on a loaded machine). */
  startupTimeoutMs?: number;
}

export async function startComposeStack(options: ComposeStackOptions): Promise<StartedDockerComposeEnvironment> {
  const project = `${options.name}-${randomUUID().slice(0, 8)}`;
  const images = Object.fromEntries(
    ['NODE_IMAGE', 'REDIS_IMAGE'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
  );
  try {
    const environment = new DockerComposeEnvironment(REPOSITORY_ROOT, options.files ?? 'docker-compose.yml')
      .withProjectName(project)
      .withEnvironment({ ...images, ...options.environment })
      .withClientOptions({ commandOptions: options.upOptions ?? [] })
      .withDefaultWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(options.startupTimeoutMs ?? 240_000);
    return await (options.build === false ? environment : environment.withBuild()).up(options.services);
  } catch (error) {
    console.error(`compose project ${project} did not come up:\n${await describeProject(project)}`);
    await run('docker', ['compose', '-p', project, 'down', '--volumes', '--timeout', '5']).catch(() => undefined);
    throw error;
  }
}

/** `docker compose ps`, and the last log lines of every service that is not healthy. */
async function describeProject(project: string): Promise<string> {
  const compose = (...args: string[]) =>
    run('docker', ['compose', '-p', project, ...args], { maxBuffer: 1 << 22 }).then(
      ({ stdout }) => stdout,
      (error: unknown) => `(docker compose ${args[0]} failed: ${String(error)})`,
    );
  const ps = await compose('ps', '--all', '--format', '{{.Service}}\t{{.Status}}');
  const unhealthy = ps
    .split('\n')
    .filter((line) => line.includes('\t') && !line.includes('(healthy)'))
    .map((line) => line.split('\t')[0]!);
  const logs = await Promise.all(unhealthy.map((service) => compose('logs', '--tail', '20', service)));
  return [ps, ...logs].join('\n');
}
