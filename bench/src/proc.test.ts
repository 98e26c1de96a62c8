import { describe, expect, it } from 'vitest';
import { parseCmdline, parseSchedstat } from './proc.ts';

describe('parseSchedstat', () => {
  it('reads the time on CPU (the first field, nanoseconds)', () => {
    expect(parseSchedstat('808754315 1993447952 7798\n')).toBe(808754315);
  });

  it('refuses a line that is not one', () => {
    expect(() => parseSchedstat('')).toThrow(/schedstat/);
    expect(() => parseSchedstat('abc 1 2')).toThrow(/schedstat/);
  });
});

describe('parseCmdline', () => {
  it('splits on NUL and drops the trailing empty word', () => {
    expect(parseCmdline('/usr/sbin/docker-proxy\0-host-port\x0032768\0')).toEqual([
      '/usr/sbin/docker-proxy',
      '-host-port',
      '32768',
    ]);
  });
});
