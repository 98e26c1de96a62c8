// Retry-After (RFC 9110 §10.2.3) on a 429 or 503: how long the origin asks us to stay
// away. Either a number of seconds or an HTTP date; anything else is ignored (the
// usual backoff applies). The caller caps the wait by the flag's deadline.

/** The statuses whose Retry-After is honoured (on a 3xx it means something else). */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * Milliseconds to wait from `nowMs` (epoch ms), or undefined when the header is absent
 * or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date has a day name and a time: refuses numbers Date.parse would take ("2", "-1").
  if (!/^[A-Za-z]{3,9},? .*\d{1,2}:\d{2}:\d{2}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
