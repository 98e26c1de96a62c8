// `flagship download [CC ...]`: submit a download to the API and follow it.
import { parseArgs } from 'node:util';
import { isCountryCode } from '@flagship/common';
import type { CliIO, Command } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';
import { runDownloadClient } from './download-client.ts';

export const DEFAULT_API_URL = 'http://localhost:3000';

const usage = `Usage: flagship download [options] [CC ...]

Download country flags through the Flagship API and follow the download to the end.
With no codes: the original program's 20 (CN IN US DK BR ...).

Options:
  --all          every country
  --api <url>    the API (default ${DEFAULT_API_URL})
  --no-follow    print the download's id and return at once
  -h, --help     show this help

Environment: FLAGSHIP_API_KEY, the API key sent as "Authorization: Bearer <key>"
(needed when the API has API_KEYS; the key needs the read and submit scopes).

Exit code: 0 when every flag was saved or not found, 1 when some failed or the API
cannot be reached, 2 for a wrong command line.

Examples:
  flagship download
  flagship download cn in us
  flagship download --all --api http://localhost:3000`;

export const downloadCommand: Command = {
  name: 'download',
  summary: 'download flags through the API and follow the progress',
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseDownloadArgs(args);
    if (values.help === true) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    const unknown = positionals.filter((code) => !isCountryCode(code) || code.length !== 2);
    if (unknown.length > 0) throw new UsageError(`not ISO 3166-1 alpha-2 country codes: ${unknown.join(', ')}`);
    if (values.all === true && positionals.length > 0) throw new UsageError('give either --all or codes, not both');
    return runDownloadClient(
      {
        api: parseApiUrl(values.api ?? DEFAULT_API_URL),
        codes: positionals,
        all: values.all === true,
        follow: values['no-follow'] !== true,
      },
      io,
    );
  },
};

function parseDownloadArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        all: { type: 'boolean' },
        api: { type: 'string' },
        'no-follow': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseApiUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--api must be an http(s) URL, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--api must be an http(s) URL, got "${text}"`);
  return url.origin;
}
