import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage-error.ts';
import { parseEchoTarget } from './echo-target.ts';

describe('parseEchoTarget', () => {
  it.each([
    [undefined, { host: '127.0.0.1', port: 8888 }],
    ['', { host: '127.0.0.1', port: 8888 }],
    ['localhost', { host: 'localhost', port: 8888 }],
    ['echo:7', { host: 'echo', port: 7 }],
    ['10.0.0.5:65535', { host: '10.0.0.5', port: 65535 }],
    [':9000', { host: '127.0.0.1', port: 9000 }],
    ['[::1]:8888', { host: '::1', port: 8888 }],
    ['[::1]', { host: '::1', port: 8888 }],
    ['::1', { host: '::1', port: 8888 }],
    ['fe80::1:2', { host: 'fe80::1:2', port: 8888 }],
    ['echo.flagship.example.', { host: 'echo.flagship.example.', port: 8888 }],
  ])('reads %j', (text, expected) => {
    expect(parseEchoTarget(text)).toEqual(expected);
  });

  it.each([
    'host:0',
    'host:65536',
    'host:http',
    'host:-1',
    'host:',
    'host:80:90',
    'ho st',
    'host\u0000:80',
    'host/../x',
    '-flag',
    '[not-ipv6]:80',
    '[::1]:port',
    `${'a'.repeat(64)}.example`,
  ])('refuses %j with a usage error', (text) => {
    expect(() => parseEchoTarget(text)).toThrow(UsageError);
  });
});
