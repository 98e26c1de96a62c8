// The settings in the manifests are exactly the variables each service reads: no missing
// knob, no variable nobody reads (a typo, or a setting a service dropped), and every value
// one the service accepts. The lists come from the code: the API's and the worker's env
// schemas, and for the echo (parsed by hand, to keep its heap small) the variables its
// loadConfig reads. A variable added to a service fails this test until the manifests
// carry it (in config/<service>.env, or in the Secret when it is a secret).
import { describe, expect, it } from 'vitest';
import { ApiEnvSchema, loadConfig as loadApiConfig } from '../../services/api/src/config.ts';
import { loadConfig as loadEchoConfig } from '../../services/echo/src/config.ts';
import { WorkerEnvSchema, loadConfig as loadWorkerConfig } from '../../services/worker/src/config.ts';
import {
  asProcessEnv,
  buildOverlay,
  containerEnvironment,
  findObject,
  overlayNames,
  type Deployment,
  type KubernetesObject,
  type ResolvedVariable,
} from './manifests.ts';

type Env = Record<string, string | undefined>;

/** The variables a loadConfig reads, recorded as it reads them from an empty environment. */
function variablesReadBy(load: (env: Env) => unknown): string[] {
  const read = new Set<string>();
  const env = new Proxy<Env>(
    {},
    {
      get(_target, name) {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    },
  );
  load(env);
  return [...read];
}

const SERVICES = {
  'flagship-api': { reads: Object.keys(ApiEnvSchema.properties), load: loadApiConfig },
  'flagship-worker': { reads: Object.keys(WorkerEnvSchema.properties), load: loadWorkerConfig },
  'flagship-echo': { reads: variablesReadBy(loadEchoConfig), load: loadEchoConfig },
} as const;

/** Names that say "secret": such a variable must come from a Secret, never a ConfigMap. */
const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|_KEYS?$|_KEY_ID$)/;
/** A URL with credentials in it (`redis://:password@host`). */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

function environmentOf(objects: readonly KubernetesObject[], name: string): Map<string, ResolvedVariable> {
  const [container] = findObject<Deployment>(objects, 'Deployment', name).spec.template.spec.containers;
  if (container === undefined) throw new Error(`${name} has no container`);
  return containerEnvironment(objects, container);
}

describe('what a service reads, from its code', () => {
  it('is found for every service (the recording sees the echo read its variables)', () => {
    expect(SERVICES['flagship-echo'].reads).toEqual(expect.arrayContaining(['ECHO_PORT', 'ECHO_EXIT_COMMAND']));
    for (const { reads } of Object.values(SERVICES)) expect(reads).toEqual(expect.arrayContaining(['LOG_LEVEL']));
  });
});

describe.each(overlayNames())('overlay %s', (overlay) => {
  const objects = buildOverlay(overlay);

  it.each(Object.keys(SERVICES))('gives %s exactly the variables it reads', (name) => {
    const given = [...environmentOf(objects, name).keys()].sort();
    expect(given).toEqual([...SERVICES[name as keyof typeof SERVICES].reads].sort());
  });

  it.each(Object.keys(SERVICES))('gives %s values its configuration accepts', (name) => {
    const env = asProcessEnv(environmentOf(objects, name));
    expect(() => SERVICES[name as keyof typeof SERVICES].load(env)).not.toThrow();
  });

  it.each(Object.keys(SERVICES))('gives %s its secrets from a Secret only', (name) => {
    for (const [variable, { value, source }] of environmentOf(objects, name)) {
      const secret = SECRET_NAME.test(variable) || URL_WITH_CREDENTIALS.test(value);
      if (secret) expect(source, variable).toBe('secret');
    }
    // The Redis password is in the URL, so the URL is a secret wherever it is set.
    const redisUrl = environmentOf(objects, name).get('REDIS_URL');
    if (redisUrl !== undefined) expect(redisUrl.source).toBe('secret');
  });
});
