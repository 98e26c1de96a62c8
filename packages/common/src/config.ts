// Typed, validated configuration from environment variables. Each service declares a
// TypeBox schema of the variables it reads (with defaults and descriptions) and calls
// `loadEnv(schema, env)` once in main.ts; a bad value stops the start with an error
// that names the variable.
//
// Here and not in @flagship/runtime: env-schema (ajv) and TypeBox would add about 5 MB
// to the heap of the echo, which imports the runtime alone to keep its heap small. The
// services that use loadEnv (api, worker, origin) load this package, and TypeBox with
// it, anyway.
import { envSchema } from 'env-schema';
import { Type, type Static, type TSchema } from 'typebox';
import { ConfigError, LOG_LEVELS, type LogLevel } from '@flagship/runtime';

export function loadEnv<S extends TSchema>(schema: S, env: Record<string, string | undefined>): Readonly<Static<S>> {
  // env-schema mutates its input (coercion, defaults): give it a copy, and treat an
  // empty string like an unset variable so `FOO=` in compose means "use the default".
  const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  try {
    const config = envSchema<Static<S>>({ schema: schema as object, data, env: false, dotenv: false });
    return Object.freeze(config);
  } catch (error) {
    // ajv names the variable as a JSON pointer into the data (`env/PORT`): name it plainly.
    const message = (error as Error).message.replace(/(^|,\s*)env\//g, '$1');
    throw new ConfigError(`invalid configuration: ${message}`, { cause: error });
  }
}

/** The `LOG_LEVEL` variable every service reads: one of pino's levels, default `info`. */
export const LogLevelSchema = Type.Unsafe<LogLevel>({
  type: 'string',
  enum: [...LOG_LEVELS],
  default: 'info',
  description: 'pino log level',
});
