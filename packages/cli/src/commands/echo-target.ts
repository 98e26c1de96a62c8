// `host[:port]` of `flagship echo`: a hostname, IPv4, or IPv6 in brackets when a port
// follows (`[::1]:8888`); a bare IPv6 address is a host without port.
import { isIP } from 'node:net';
import { UsageError } from '../usage-error.ts';

export interface EchoTarget {
  host: string;
  port: number;
}

export const DEFAULT_ECHO_TARGET: EchoTarget = { host: '127.0.0.1', port: 8888 };

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

export function parseEchoTarget(text: string | undefined, defaults: EchoTarget = DEFAULT_ECHO_TARGET): EchoTarget {
  if (text === undefined || text === '') return { ...defaults };
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  let host: string;
  let port: string | undefined;
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
    if (isIP(host) !== 6) throw new UsageError(`not an IPv6 address in brackets: "${text}"`);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    port = colon === -1 ? undefined : text.slice(colon + 1);
    if (host === '') host = defaults.host;
    if (isIP(host) === 0 && !HOSTNAME.test(host)) throw new UsageError(`not a host name or address: "${host}"`);
  }
  return { host, port: port === undefined ? defaults.port : parsePort(port) };
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`the port must be a number from 1 to 65535, got "${text}"`);
  return port;
}
