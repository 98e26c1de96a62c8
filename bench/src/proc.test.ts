import { describe, expect, it } from 'vitest';
import { parseCmdline, parseParentPid, parseSchedstat } from './proc.ts';

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

describe('parseParentPid', () => {
  it('reads the parent after the command, even one with spaces and parentheses', () => {
    expect(parseParentPid('9525 (cat) R 9522 9522 12733 0 -1')).toBe(9522);
    expect(parseParentPid('77 (node -e (x)) S 5375 77 77 0')).toBe(5375);
  });

  it('refuses a line that is not one', () => {
    expect(() => parseParentPid('garbage')).toThrow(/stat line/);
  });
});
