import { describe, expect, it } from 'vitest';
import { decideRedirect, isRedirect, parseAllowedHosts } from './redirect-policy.ts';

const FROM = new URL('http://flags.example:8080/data/flags/cn/cn.gif');

function followed(location: string, allowed: string[] = [], from = FROM): string | undefined {
  const decision = decideRedirect(from, location, allowed);
  return decision.follow ? decision.url.href : undefined;
}

function refusal(location: string | undefined, allowed: string[] = [], from = FROM): string {
  const decision = decideRedirect(from, location, allowed);
  return decision.follow ? `followed to ${decision.url.href}` : decision.reason;
}

describe('decideRedirect', () => {
  it('follows a redirect on the same host, absolute or relative', () => {
    expect(followed('http://flags.example:8080/v2/cn.gif')).toBe('http://flags.example:8080/v2/cn.gif');
    expect(followed('/v2/cn.gif')).toBe('http://flags.example:8080/v2/cn.gif');
    expect(followed('../cn/CN.gif')).toBe('http://flags.example:8080/data/flags/cn/CN.gif');
    expect(followed('HTTP://FLAGS.EXAMPLE:8080/x')).toBe('http://flags.example:8080/x');
  });

  it('follows http to https on the same host name, on any port', () => {
    expect(followed('https://flags.example/data/flags/cn/cn.gif')).toBe('https://flags.example/data/flags/cn/cn.gif');
    expect(followed('https://flags.example:8443/x')).toBe('https://flags.example:8443/x');
  });

  it('refuses https to http, even on the same host', () => {
    const from = new URL('https://flags.example/data/flags/cn/cn.gif');
    expect(refusal('http://flags.example/data/flags/cn/cn.gif', [], from)).toContain('from https to http refused');
    expect(refusal('http://flags.example/x', ['flags.example'], from)).toContain('from https to http refused');
  });

  it('refuses another host, and names it', () => {
    expect(refusal('http://cdn.example/cn.gif')).toBe(
      'redirect to another host cdn.example refused (not in ORIGIN_ALLOWED_HOSTS): http://cdn.example/cn.gif (from http://flags.example:8080/data/flags/cn/cn.gif)',
    );
    // Same name, other port, same scheme: another service on that machine.
    expect(refusal('http://flags.example:6379/')).toContain('another host flags.example:6379');
    expect(refusal('//169.254.169.254/latest/meta-data')).toContain('another host 169.254.169.254');
  });

  it('follows another host listed as allowed, by name or by name and port', () => {
    expect(followed('https://cdn.example/cn.gif', ['cdn.example'])).toBe('https://cdn.example/cn.gif');
    expect(followed('http://cdn.example:81/cn.gif', ['cdn.example'])).toBe('http://cdn.example:81/cn.gif');
    expect(followed('http://cdn.example:81/cn.gif', ['cdn.example:81'])).toBe('http://cdn.example:81/cn.gif');
    expect(refusal('http://cdn.example:82/cn.gif', ['cdn.example:81'])).toContain('another host cdn.example:82');
  });

  it('refuses other schemes, a missing Location and an invalid one', () => {
    expect(refusal('file:///etc/passwd')).toContain('redirect to a file: URL refused');
    expect(refusal('ftp://flags.example/cn.gif')).toContain('redirect to a ftp: URL refused');
    expect(refusal(undefined)).toContain('redirect without a Location');
    expect(refusal('  ')).toContain('redirect without a Location');
    expect(refusal('http://[::1')).toContain('invalid Location');
  });
});

describe('isRedirect', () => {
  it('is true for the five redirect statuses only', () => {
    expect([301, 302, 303, 307, 308].every(isRedirect)).toBe(true);
    expect([200, 300, 304, 305, 404].some(isRedirect)).toBe(false);
  });
});

describe('parseAllowedHosts', () => {
  it('splits, trims, lower-cases and drops empty entries', () => {
    expect(parseAllowedHosts(' CDN.example, b.example:8443,,')).toEqual(['cdn.example', 'b.example:8443']);
    expect(parseAllowedHosts('')).toEqual([]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
  });
});
