// The origin's configuration, read once from the environment by main.ts and validated:
// a bad value stops the start with an error naming the variable.
import { fileURLToPath } from 'node:url';
import { LogLevelSchema, isCountryCode, loadEnv } from '@flagship/common';
import { ConfigError, type LogLevel } from '@flagship/runtime';
import { Type } from 'typebox';
import { MAX_DELAY_MS, validateFaultOptions, type FaultOptions } from './faults.ts';

/**
 * `services/origin/data`, found from this file: the same place whether the repository
 * sits in a clone or at /app in the image (/app/services/origin/data).
 */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../data', import.meta.url));

const OriginEnv = Type.Object({
  ORIGIN_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on' }),
  ORIGIN_HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address to listen on' }),
  ORIGIN_DATA_DIR: Type.String({ minLength: 1, default: DEFAULT_DATA_DIR, description: 'Generated data set' }),
  ORIGIN_DELAY_MS: Type.Optional(
    Type.String({
      pattern: '^\\s*\\d{1,6}\\s*(-\\s*\\d{1,6}\\s*)?$',
      description: 'Delay per flag response: "n" or "min-max" ms',
    }),
  ),
  ORIGIN_ERROR_RATE: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0,
    description: 'Share of flag requests answered 503',
  }),
  ORIGIN_FAULT_SEED: Type.Optional(Type.Integer({ description: 'Seed for reproducible delays and errors' })),
  ORIGIN_FAIL_CODES: Type.Optional(
    Type.String({ pattern: '^[A-Za-z, ]*$', description: 'Comma-separated codes that always answer 500' }),
  ),
  // A plain enum keyword: one readable error ("must be equal to one of the allowed values").
  LOG_LEVEL: LogLevelSchema,
});

export interface OriginConfig {
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  faults: FaultOptions;
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<OriginConfig> {
  const raw = loadEnv(OriginEnv, env);
  const faults: FaultOptions = {
    errorRate: raw.ORIGIN_ERROR_RATE,
    ...(raw.ORIGIN_DELAY_MS === undefined ? {} : { delayMs: parseDelay(raw.ORIGIN_DELAY_MS) }),
    ...(raw.ORIGIN_FAULT_SEED === undefined ? {} : { seed: raw.ORIGIN_FAULT_SEED }),
    ...(raw.ORIGIN_FAIL_CODES === undefined ? {} : { failCodes: parseCodes(raw.ORIGIN_FAIL_CODES) }),
  };
  try {
    validateFaultOptions(faults);
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`, { cause: error });
  }
  return Object.freeze({
    port: raw.ORIGIN_PORT,
    host: raw.ORIGIN_HOST,
    dataDir: raw.ORIGIN_DATA_DIR,
    logLevel: raw.LOG_LEVEL,
    faults: Object.freeze(faults),
  });
}

/** "n" means exactly n ms; "min-max" a uniform random delay in that range. */
function parseDelay(value: string): [number, number] {
  const [min = 0, max = min] = value.split('-').map((part) => Number(part.trim()));
  if (min > max || max > MAX_DELAY_MS) {
    throw new ConfigError(
      `invalid configuration: ORIGIN_DELAY_MS must be "n" or "min-max" with min ≤ max ≤ ${MAX_DELAY_MS}, got "${value}"`,
    );
  }
  return [min, max];
}

function parseCodes(value: string): string[] {
  const codes = value
    .split(',')
    .map((code) => code.trim().toUpperCase())
    .filter((code) => code !== '');
  const bad = codes.find((code) => !isCountryCode(code));
  if (bad !== undefined) {
    throw new ConfigError(`invalid configuration: ORIGIN_FAIL_CODES has an unknown country code "${bad}"`);
  }
  return codes;
}
