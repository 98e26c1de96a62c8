// The harness's small parsers: each reads another program's output, so each gets a
// poisoned input too.
import { describe, expect, it } from 'vitest';
import { parsePeerAnswer, parsePeerDownload } from './celery-peer.ts';
import { isDockerProxyFor, parsePublishedPort } from './compose-stack.ts';
import { takeSseFrames } from './downloads-client.ts';
import { differences } from './files.ts';
import { mountOf } from './machine.ts';
import { nginxConfig, parseTimingLog } from './nginx.ts';
import { parseCommandStats } from './redis.ts';
import { parseReferenceOutput } from './reference.ts';
import { autocannonRate } from './scenarios/intake.ts';
import { parseVmHwm } from './service-process.ts';

describe('parseReferenceOutput', () => {
  it('reads the count and the printed elapsed time of the last line', () => {
    const stdout = 'China\n India\n \n20 flags downloaded in 0.047s\n';
    expect(parseReferenceOutput(stdout)).toEqual({ count: 20, printedSeconds: 0.047 });
  });

  it('refuses output without a report line (the program crashed half-way)', () => {
    expect(() => parseReferenceOutput('China\n India\n')).toThrow(/no report line/);
    expect(() => parseReferenceOutput('20 flags downloaded in s\n')).toThrow(/no report line/);
  });
});

describe('takeSseFrames', () => {
  it('splits complete frames, keeps the unfinished rest, and skips heartbeat comments', () => {
    const { frames, rest } = takeSseFrames(
      ': heartbeat\n\nevent: progress\ndata: {"done":1}\n\nevent: completed\r\ndata: {"saved"',
    );
    expect(frames).toEqual([{ event: 'progress', data: '{"done":1}' }]);
    expect(rest).toBe('event: completed\ndata: {"saved"');
  });

  it('joins multi-line data and defaults the event name', () => {
    expect(takeSseFrames('data: a\ndata: b\n\n').frames).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('yields nothing from garbage without a frame end', () => {
    expect(takeSseFrames('\u0000garbage').frames).toEqual([]);
  });
});

describe('parseCommandStats', () => {
  it('reads calls per command from INFO commandstats', () => {
    const info =
      '# Commandstats\r\ncmdstat_evalsha:calls=12,usec=300,usec_per_call=25.0\r\ncmdstat_xadd:calls=4,usec=8\r\n';
    expect([...parseCommandStats(info)]).toEqual([
      ['evalsha', 12],
      ['xadd', 4],
    ]);
  });

  it('ignores lines that are not command stats', () => {
    expect(parseCommandStats('# Server\r\nredis_version:7.0.15\r\ncmdstat_broken\r\n').size).toBe(0);
  });
});

describe('parseVmHwm', () => {
  it('reads the peak resident set in bytes', () => {
    expect(parseVmHwm('Name:\tnode\nVmHWM:\t  147432 kB\nVmRSS:\t 1 kB\n')).toBe(147432 * 1024);
  });

  it('refuses a status without VmHWM', () => {
    expect(() => parseVmHwm('Name:\tnode\n')).toThrow(/VmHWM/);
  });
});

describe('mountOf', () => {
  const mounts = [
    '/dev/vda / ext4 rw,relatime 0 0',
    'tmpfs /tmp tmpfs rw,nosuid 0 0',
    '/dev/vda /work/main/bench ext4 rw 0 0',
  ].join('\n');

  it('finds the most specific mount point holding a folder', () => {
    expect(mountOf(mounts, '/tmp/x')?.type).toBe('tmpfs');
    expect(mountOf(mounts, '/work/main/bench/.work')?.point).toBe('/work/main/bench');
    expect(mountOf(mounts, '/home')?.point).toBe('/');
  });

  it('does not take a mount point for a prefix of a longer name', () => {
    expect(mountOf(mounts, '/tmpfoo')?.point).toBe('/');
  });

  it('answers undefined for an empty mount table', () => {
    expect(mountOf('', '/x')).toBeUndefined();
  });
});

describe('nginxConfig', () => {
  const config = nginxConfig({ dataDir: '/data/set', workDir: '/work/nginx', port: 4321 });

  it('listens on loopback only, on the given port', () => {
    expect(config).toContain('listen 127.0.0.1:4321;');
    expect(config).not.toMatch(/listen (?!127\.0\.0\.1)/);
  });

  it('maps the flupy.org paths onto the data set and keeps files under the work folder', () => {
    expect(config).toContain('location /data/flags/ { alias /data/set/flags/; }');
    expect(config).toContain('pid /work/nginx/nginx.pid;');
    expect(config).toContain('daemon off;');
  });

  it('logs nothing without a container address', () => {
    expect(config).toContain('access_log off;');
    expect(config).not.toContain('log_format');
  });

  it('adds a logging server on the container address when asked', () => {
    const both = nginxConfig({ dataDir: '/d', workDir: '/w', port: 4321, containerAddress: '172.17.0.1' });
    expect(both).toContain('listen 127.0.0.1:4321;');
    expect(both).toContain('listen 172.17.0.1:4321;');
    expect(both).toContain("log_format timing '$msec $request_time $request_uri';");
    expect(both).toContain('access_log /w/container-access.log timing;');
  });
});

describe('parseTimingLog', () => {
  it('gives start (end minus request time) and end in epoch ms', () => {
    const text = '1764120000.123 0.002 /data/flags/cn/cn.gif\n1764120000.130 0.000 /data/flags/cn/metadata.json\n';
    expect(parseTimingLog(text)).toEqual([
      { startMs: 1764120000121, endMs: 1764120000123, uri: '/data/flags/cn/cn.gif' },
      { startMs: 1764120000130, endMs: 1764120000130, uri: '/data/flags/cn/metadata.json' },
    ]);
  });

  it('skips a partial or garbled line', () => {
    expect(parseTimingLog('1764120000.1 0.002 /x\nGET / HTTP/1.1\n1764120000.123 0.0')).toEqual([]);
  });
});

describe('autocannonRate', () => {
  const ok = { '2xx': 20_000, non2xx: 0, errors: 0, timeouts: 0, duration: 10.02 };

  it('is 2xx answers per second', () => {
    expect(autocannonRate(ok)).toBeCloseTo(1996, 0);
  });

  it('refuses a run with failed requests or no duration', () => {
    expect(() => autocannonRate({ ...ok, non2xx: 3 })).toThrow(/3 non-2xx/);
    expect(() => autocannonRate({ ...ok, errors: 1 })).toThrow(/failures/);
    expect(() => autocannonRate({ ...ok, duration: 0 })).toThrow(/duration/);
  });
});

describe('differences', () => {
  it('lists names only one side has', () => {
    expect(differences(['A.gif', 'B.gif'], ['B.gif', 'C.gif'])).toEqual({ onlyA: ['A.gif'], onlyB: ['C.gif'] });
  });
});

describe('parsePublishedPort', () => {
  it('reads HOST:PORT, and reaches a wildcard binding on loopback', () => {
    expect(parsePublishedPort('127.0.0.1:32768\n')).toEqual({ host: '127.0.0.1', port: 32768 });
    expect(parsePublishedPort('0.0.0.0:3000')).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(parsePublishedPort('[::]:3000')).toEqual({ host: '127.0.0.1', port: 3000 });
  });

  it('refuses anything else (no port published, an error text)', () => {
    expect(() => parsePublishedPort('')).toThrow(/HOST:PORT/);
    expect(() => parsePublishedPort('no port 3000/tcp for api')).toThrow(/HOST:PORT/);
  });
});

describe('isDockerProxyFor', () => {
  const argv = ['/usr/sbin/docker-proxy', '-proto', 'tcp', '-host-ip', '127.0.0.1', '-host-port', '32768'];

  it('finds the proxy of one published port', () => {
    expect(isDockerProxyFor(argv, 32768)).toBe(true);
    expect(isDockerProxyFor(argv, 3000)).toBe(false);
  });

  it('ignores other programs that mention the port', () => {
    expect(isDockerProxyFor(['node', '-host-port', '32768'], 32768)).toBe(false);
  });
});

describe('parsePeerDownload', () => {
  it('reads the time and the count of a Celery client answer', () => {
    expect(parsePeerDownload('{"seconds": 0.051, "saved": 20, "task_seconds": 0.04}')).toEqual({
      seconds: 0.051,
      saved: 20,
    });
  });

  it('turns an error answer into an error', () => {
    expect(() => parsePeerDownload('{"error": "TimeoutError: no worker"}')).toThrow(/TimeoutError: no worker/);
  });

  it('refuses what is not an answer (a traceback line, a list, no time)', () => {
    expect(() => parsePeerAnswer('Traceback (most recent call last):')).toThrow(/not JSON/);
    expect(() => parsePeerAnswer('[1, 2]')).toThrow(/answered/);
    expect(() => parsePeerDownload('{"saved": 20}')).toThrow(/without seconds/);
    expect(() => parsePeerDownload('{"seconds": -1, "saved": 20}')).toThrow(/without seconds/);
  });
});
