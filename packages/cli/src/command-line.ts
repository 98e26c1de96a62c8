// What the API commands share: their shape (defineApiCommand: parsing, where a wrong
// command line is a UsageError, exit 2; --help; a usage text with the options, exit codes
// and environment), `--api`/FLAGSHIP_API and FLAGSHIP_API_KEY, `--json`, and the
// download id argument.
import { parseArgs, type ParseArgsConfig, type ParseArgsOptionsConfig } from 'node:util';
import { DOWNLOAD_ID_PATTERN } from '@flagship/common';
import { FlagshipApi } from './api-client.ts';
import { EXIT_CODES_HELP, ExitCodes, type CliIO, type Command } from './cli-io.ts';
import { UsageError } from './usage-error.ts';

export const DEFAULT_API_URL = 'http://localhost:3000';

/** The options every API command takes. */
const API_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  api: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const ENVIRONMENT_HELP = `Environment:
  FLAGSHIP_API      the API's URL when --api is not given
  FLAGSHIP_API_KEY  sent as "Authorization: Bearer <key>" when set`;

/** One option's line in a usage text: its flags, and what it does (lines after the first are continued). */
export type OptionHelp = readonly [flags: string, description: string];

type ParsedValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof API_OPTIONS & O; allowPositionals: true }>
>['values'];

export interface ApiCommandSpec<O extends ParseArgsOptionsConfig> {
  name: string;
  summary: string;
  /** What follows `flagship <name> ` in the usage line, e.g. `[options] ID`. */
  synopsis: string;
  /** The paragraph under the usage line. */
  description: string;
  /** The command's own options, beside --api, --json and --help. */
  options: O;
  optionsHelp: readonly OptionHelp[];
  /** What --json prints. */
  json: string;
  /** Positional arguments: none (ls) or some (checked by run). */
  positionals: boolean;
  examples: readonly string[];
  run(command: { values: ParsedValues<O>; positionals: string[]; target: ApiTarget; io: CliIO }): Promise<number>;
}

/** A command of the API: parses its command line, prints its help, and runs with the API to talk to. */
export function defineApiCommand<O extends ParseArgsOptionsConfig>(spec: ApiCommandSpec<O>): Command {
  const usage = `Usage: flagship ${spec.name} ${spec.synopsis}

${spec.description}

Options:
${optionLines([
  ...spec.optionsHelp,
  ['--api <url>', `the API (default: $FLAGSHIP_API, else ${DEFAULT_API_URL})`],
  ['--json', spec.json],
  ['-h, --help', 'show this help'],
])}

${EXIT_CODES_HELP}

${ENVIRONMENT_HELP}

${spec.examples.length === 1 ? 'Example' : 'Examples'}:
${spec.examples.map((example) => `  ${example}`).join('\n')}`;
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values, positionals } = parseCommandLine({
        args,
        options: { ...API_OPTIONS, ...spec.options },
        allowPositionals: spec.positionals,
      }) as { values: ParsedValues<O>; positionals: string[] };
      const common = values as { help?: boolean; api?: string };
      if (common.help === true) {
        io.stdout.write(`${usage}\n`);
        return ExitCodes.ok;
      }
      return spec.run({ values, positionals, target: apiTarget(common, io), io });
    },
  };
}

/** Options help, the descriptions in one column. */
function optionLines(options: readonly OptionHelp[]): string {
  const width = Math.max(...options.map(([flags]) => flags.length)) + 2;
  return options
    .map(
      ([flags, description]) => `  ${flags.padEnd(width)}${description.replaceAll('\n', `\n  ${' '.repeat(width)}`)}`,
    )
    .join('\n');
}

/** parseArgs (strict: unknown options are errors) with its errors as UsageErrors. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export interface ApiTarget {
  api: FlagshipApi;
  /** ` --api <url>` when the URL came from --api, so a printed command can be run as is. */
  apiArgument: string;
}

/** The API to talk to: --api, else $FLAGSHIP_API, else the default; the key from $FLAGSHIP_API_KEY. */
export function apiTarget(values: { api?: string | undefined }, io: CliIO): ApiTarget {
  const env = io.env ?? {};
  const fromEnv = nonEmpty(env.FLAGSHIP_API);
  const [text, source] =
    values.api !== undefined
      ? [values.api, '--api']
      : fromEnv !== undefined
        ? [fromEnv, 'FLAGSHIP_API']
        : [DEFAULT_API_URL, ''];
  const api = parseApiUrl(text, source);
  return {
    api: new FlagshipApi({ api, apiKey: nonEmpty(env.FLAGSHIP_API_KEY) }),
    apiArgument: values.api === undefined ? '' : ` --api ${api}`,
  };
}

function parseApiUrl(text: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new UsageError(`${source} must be an http(s) URL, got "${text}"`);
  return url.origin;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

const DOWNLOAD_ID = new RegExp(DOWNLOAD_ID_PATTERN);

/** The one positional argument, a download id (a UUID; upper case is accepted). */
export function downloadIdArgument(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError(`expected one download id, got ${positionals.length}`);
  const id = (positionals[0] ?? '').toLowerCase();
  if (!DOWNLOAD_ID.test(id)) throw new UsageError(`not a download id (a UUID): "${positionals[0]}"`);
  return id;
}

/** A document of the API, as `--json` prints it: one line. */
export function printJson(io: CliIO, document: unknown): void {
  io.stdout.write(`${JSON.stringify(document)}\n`);
}
