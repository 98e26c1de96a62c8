import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { loadConfigOrReport } from './startup.ts';

describe('loadConfigOrReport', () => {
  it('returns the configuration', () => {
    expect(
      loadConfigOrReport(
        'api',
        () => ({ port: 1 }),
        () => {},
      ),
    ).toEqual({ port: 1 });
  });

  it('reports a ConfigError as one line and returns undefined', () => {
    const lines: string[] = [];
    const result = loadConfigOrReport(
      'api',
      () => {
        throw new ConfigError('invalid configuration: PORT must be integer');
      },
      (line) => lines.push(line),
    );
    expect(result).toBeUndefined();
    expect(lines).toEqual(['api: invalid configuration: PORT must be integer']);
  });

  it('lets any other error through', () => {
    expect(() =>
      loadConfigOrReport(
        'api',
        () => {
          throw new TypeError('bug');
        },
        () => {},
      ),
    ).toThrow(TypeError);
  });
});
