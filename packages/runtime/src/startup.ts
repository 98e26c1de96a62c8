// How every service's main.ts reads its configuration: a bad variable is reported as
// one line naming it (`api: invalid configuration: PORT must be integer`) instead of a
// stack trace, and main.ts exits 1. Anything other than a ConfigError is a bug: thrown.
import { ConfigError } from './errors.ts';

export function loadConfigOrReport<T>(
  service: string,
  load: () => T,
  report: (line: string) => void = (line) => console.error(line),
): T | undefined {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report(`${service}: ${error.message}`);
    return undefined;
  }
}
