// Which redirects a flag download follows. The reference program (aiohttp) follows
// redirects, so an origin that moved from http:// to https://, or answers 301/302 to
// another path, works with it; Flagship follows them too, but only where the origin
// itself is:
//   - at most MAX_REDIRECTS hops (301, 302, 303, 307, 308 with a Location);
//   - to the same host (host name and port) with the same scheme, or from http to
//     https on the same host name (an upgrade changes the port: 80 → 443, 8080 → 8443);
//   - to another host only when it is in the allowed list (ORIGIN_ALLOWED_HOSTS), so a
//     compromised or misconfigured origin cannot send the workers to arbitrary hosts
//     (internal services, metadata endpoints);
//   - never from https to http, and never to another scheme.
// undici's redirect interceptor follows any host and has no hook for such a policy, so
// the download follows hops itself (download-flag.ts), asking this module at each one.

export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export function isRedirect(statusCode: number): boolean {
  return REDIRECT_STATUSES.has(statusCode);
}

export type RedirectDecision = { follow: true; url: URL } | { follow: false; reason: string };

/**
 * Where a redirect from `from` leads, or why it is refused. `allowedHosts` are lower-case
 * host names, or `host:port` to allow one port only.
 */
export function decideRedirect(
  from: URL,
  location: string | string[] | undefined,
  allowedHosts: readonly string[],
): RedirectDecision {
  const target = Array.isArray(location) ? location[0] : location;
  if (target === undefined || target.trim() === '') {
    return { follow: false, reason: `redirect without a Location from ${from.href}` };
  }
  let to: URL;
  try {
    to = new URL(target.trim(), from);
  } catch {
    return { follow: false, reason: `redirect to an invalid Location ${JSON.stringify(target)} from ${from.href}` };
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    return { follow: false, reason: `redirect to a ${to.protocol} URL refused (${from.href})` };
  }
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    return { follow: false, reason: `redirect from https to http refused: ${to.href} (from ${from.href})` };
  }
  const sameHost = to.protocol === from.protocol ? to.host === from.host : to.hostname === from.hostname;
  if (sameHost || isAllowedHost(to, allowedHosts)) return { follow: true, url: to };
  return {
    follow: false,
    reason: `redirect to another host ${to.host} refused (not in ORIGIN_ALLOWED_HOSTS): ${to.href} (from ${from.href})`,
  };
}

function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  return allowedHosts.includes(url.hostname) || allowedHosts.includes(url.host);
}

/** `"a.example, B.example:8443"` → `["a.example", "b.example:8443"]`. */
export function parseAllowedHosts(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
}
