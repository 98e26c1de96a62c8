// A fast static origin for both programs: nginx from Debian's package, with its own
// configuration under bench/.work, listening on 127.0.0.1 only, serving the origin
// service's generated data set at the flupy.org paths (/data/flags/{cc}/{cc}.gif and
// /data/flags/{cc}/metadata.json). It serves files from the page cache far faster than
// either client can ask, so the clients are what is measured, not the origin.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForHttpOk } from './ports.ts';
import { NGINX } from './system-packages.ts';

export interface StaticOrigin {
  /** Like the reference's BASE_URL: http://127.0.0.1:PORT/data/flags */
  flagsUrl: string;
  close(): Promise<void>;
}

export interface NginxOptions {
  /** The generated data set: `{dataDir}/flags/{cc}/{cc}.gif`. */
  dataDir: string;
  /** Where the configuration, pid file, logs and temp folders go. */
  workDir: string;
}

export function nginxConfig(options: { dataDir: string; workDir: string; port: number }): string {
  const work = path.resolve(options.workDir);
  const flags = path.join(path.resolve(options.dataDir), 'flags') + '/';
  return `# Written by bench/src/nginx.ts for one benchmark run.
daemon off;
master_process on;
# One worker: a static origin on 2 cores must leave the CPU to the clients under test.
worker_processes 1;
# Root starts nginx here; the data set is only readable as the user who generated it.
user root;
worker_rlimit_nofile 16384;
pid ${work}/nginx.pid;
error_log ${work}/error.log warn;
events { worker_connections 8192; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  # Warm connections between runs, and no limit on requests per connection.
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  open_file_cache max=2000 inactive=120s;
  client_body_temp_path ${work}/client-body;
  proxy_temp_path ${work}/proxy;
  fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi;
  scgi_temp_path ${work}/scgi;
  server {
    listen 127.0.0.1:${options.port};
    location /data/flags/ { alias ${flags}; }
  }
}
`;
}

export async function startNginx(options: NginxOptions): Promise<StaticOrigin> {
  const workDir = path.resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  const port = await freePort();
  const configPath = path.join(workDir, 'nginx.conf');
  await writeFile(configPath, nginxConfig({ ...options, port }));
  const child = spawn(NGINX, ['-p', workDir, '-c', configPath, '-e', path.join(workDir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = exitOf(child);
  const base = `http://127.0.0.1:${port}/data/flags`;
  try {
    await waitForHttpOk(`${base}/cn/metadata.json`, {
      stillAlive: () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr.trim()}`);
      },
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    flagsUrl: base,
    async close() {
      if (child.exitCode === null) child.kill('SIGQUIT'); // graceful: finish open requests
      await exited;
    },
  };
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
