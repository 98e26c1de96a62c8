// A fast static origin for both programs: nginx from Debian's package, with its own
// configuration under bench/.work, listening on 127.0.0.1 only, serving the origin
// service's generated data set at the flupy.org paths (/data/flags/{cc}/{cc}.gif and
// /data/flags/{cc}/metadata.json). It serves files from the page cache far faster than
// either client can ask, so the clients are what is measured, not the origin.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForHttpOk } from './ports.ts';
import { childPids } from './proc.ts';
import { NGINX } from './system-packages.ts';

export interface StaticOrigin {
  /** Like the reference's BASE_URL: http://127.0.0.1:PORT/data/flags */
  flagsUrl: string;
  /** The same files for containers, at the Docker bridge's address (when asked for). */
  containerFlagsUrl?: string;
  /** Requests that came in through the containers' address, read as they are logged. */
  containerRequests?: AccessLogReader;
  /** nginx's own pid (master) and its worker's, for CPU accounting. */
  pids(): Promise<number[]>;
  close(): Promise<void>;
}

export interface NginxOptions {
  /** The generated data set: `{dataDir}/flags/{cc}/{cc}.gif`. */
  dataDir: string;
  /** Where the configuration, pid file, logs and temp folders go. */
  workDir: string;
  /**
   * Also listen on this address (the Docker bridge's gateway, e.g. 172.17.0.1), for the
   * compose stack's workers, in a server of its own that logs each request's time.
   */
  containerAddress?: string;
}

/** One logged request: when nginx read its first byte and when it finished, epoch ms. */
export interface LoggedRequest {
  startMs: number;
  endMs: number;
  uri: string;
}

export interface AccessLogReader {
  /** Requests logged since the previous call (the whole log on the first). */
  readNew(): Promise<LoggedRequest[]>;
}

/** `log_format timing`: `$msec $request_time $request_uri` (seconds, millisecond resolution). */
export const TIMING_LOG_FORMAT = '$msec $request_time $request_uri';

/** Parses lines in TIMING_LOG_FORMAT; skips a partial last line and anything malformed. */
export function parseTimingLog(text: string): LoggedRequest[] {
  const requests: LoggedRequest[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+\.\d{3}) (\d+\.\d{3}) (\S+)$/.exec(line.trim());
    if (match === null) continue;
    const endMs = Math.round(Number(match[1]) * 1000);
    requests.push({ startMs: endMs - Math.round(Number(match[2]) * 1000), endMs, uri: match[3] as string });
  }
  return requests;
}

export function nginxConfig(options: {
  dataDir: string;
  workDir: string;
  port: number;
  containerAddress?: string;
}): string {
  const work = path.resolve(options.workDir);
  const flags = path.join(path.resolve(options.dataDir), 'flags') + '/';
  // Only the containers' server logs, one write per request: the reference and the host
  // processes are served as before, and the compose stack's timings pay the (small) cost.
  const containerServer =
    options.containerAddress === undefined
      ? ''
      : `
  log_format timing '${TIMING_LOG_FORMAT}';
  server {
    listen ${options.containerAddress}:${options.port};
    access_log ${work}/container-access.log timing;
    location /data/flags/ { alias ${flags}; }
  }`;
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
  }${containerServer}
}
`;
}

export async function startNginx(options: NginxOptions): Promise<StaticOrigin> {
  const workDir = path.resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  const port = await freePort();
  const configPath = path.join(workDir, 'nginx.conf');
  await writeFile(configPath, nginxConfig({ ...options, port }));
  const accessLogPath = path.join(workDir, 'container-access.log');
  await writeFile(accessLogPath, '');
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
  let logOffset = 0;
  const containerRequests: AccessLogReader = {
    async readNew() {
      const file = await open(accessLogPath, 'r');
      try {
        const { size } = await file.stat();
        const buffer = Buffer.alloc(size - logOffset);
        await file.read(buffer, 0, buffer.length, logOffset);
        // Whole lines only; a line being written stays for the next call.
        const text = buffer.toString('utf8');
        const complete = text.slice(0, text.lastIndexOf('\n') + 1);
        logOffset += Buffer.byteLength(complete);
        return parseTimingLog(complete);
      } finally {
        await file.close();
      }
    },
  };
  return {
    flagsUrl: base,
    ...(options.containerAddress === undefined
      ? {}
      : { containerFlagsUrl: `http://${options.containerAddress}:${port}/data/flags`, containerRequests }),
    async pids() {
      const master = child.pid;
      if (master === undefined) return [];
      return [master, ...(await childPids(master))];
    },
    async close() {
      if (child.exitCode === null) child.kill('SIGQUIT'); // graceful: finish open requests
      await exited;
    },
  };
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
