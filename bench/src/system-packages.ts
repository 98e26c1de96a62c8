// The benchmark's outside programs come from Debian's packages: nginx (the fast
// static origin both programs download from), python3-aiohttp (the reference
// program's only dependency) and, for the Celery peer, python3-celery with
// python3-redis (its Redis broker and result backend). Installed with apt-get once, only when missing, so a
// fresh machine needs nothing by hand; an installed machine is not touched.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PYTHON = '/usr/bin/python3';
export const NGINX = '/usr/sbin/nginx';

async function hasNginx(): Promise<boolean> {
  return access(NGINX).then(
    () => true,
    () => false,
  );
}

async function hasAiohttp(): Promise<boolean> {
  return run(PYTHON, ['-c', 'import aiohttp']).then(
    () => true,
    () => false,
  );
}

async function hasCelery(): Promise<boolean> {
  return run(PYTHON, ['-c', 'import celery, redis']).then(
    () => true,
    () => false,
  );
}

/** Installs what is missing with apt-get (needs root, as on these machines); returns what it installed. */
export async function ensureSystemPackages(
  log: (line: string) => void,
  wanted: { celery: boolean } = { celery: false },
): Promise<string[]> {
  const missing = [
    ...((await hasNginx()) ? [] : ['nginx']),
    ...((await hasAiohttp()) ? [] : ['python3-aiohttp']),
    ...(!wanted.celery || (await hasCelery()) ? [] : ['python3-celery', 'python3-redis']),
  ];
  if (missing.length === 0) return [];
  log(`installing ${missing.join(', ')} with apt-get (once)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, maxBuffer: 64 * 1024 * 1024 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return missing;
}

/** Version strings for the machine description. */
export async function systemVersions(): Promise<{ python: string; aiohttp: string; nginx: string }> {
  const python = (await run(PYTHON, ['--version'])).stdout.trim().replace(/^Python /, '');
  const aiohttp = (await run(PYTHON, ['-c', 'import aiohttp; print(aiohttp.__version__)'])).stdout.trim();
  // nginx prints its version on stderr.
  const nginx = (await run(NGINX, ['-v'])).stderr.trim().replace(/^nginx version: /, '');
  return { python, aiohttp, nginx };
}

/** Celery's, kombu's and redis-py's versions, for the machine description. */
export async function celeryVersions(): Promise<string> {
  const { stdout } = await run(PYTHON, [
    '-c',
    'import celery, kombu, redis; print(f"Celery {celery.__version__}, kombu {kombu.__version__}, redis-py {redis.__version__}")',
  ]);
  return stdout.trim();
}
