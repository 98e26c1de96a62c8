// How the CLI authenticates to the Flagship API: the key in FLAGSHIP_API_KEY, sent as
// `Authorization: Bearer <key>` on every request to the API (none when unset: an API
// without API_KEYS is open). Every command that calls the API spreads these headers.
export const API_KEY_VARIABLE = 'FLAGSHIP_API_KEY';

export function apiAuthHeaders(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const key = env[API_KEY_VARIABLE]?.trim();
  return key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` };
}

/** A hint for a 401 or 403 answer, naming the variable to set. */
export function apiKeyHint(status: number, env: Record<string, string | undefined> = process.env): string {
  if (status === 401) {
    return env[API_KEY_VARIABLE] ? ` (check ${API_KEY_VARIABLE})` : ` (set ${API_KEY_VARIABLE} to an API key)`;
  }
  return status === 403 ? ` (the key in ${API_KEY_VARIABLE} lacks the scope)` : '';
}
