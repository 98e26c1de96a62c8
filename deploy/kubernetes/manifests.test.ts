// The Kubernetes manifests as `kubectl apply -k` would send them: every overlay builds,
// every object validates against the Kubernetes and KEDA schemas, and the objects agree
// with each other and with the rest of the repository (Dockerfile targets and users,
// compose's hardening, the services' ports, shutdown deadlines and queue keys).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QUEUE_PREFIX, QueueNames } from '@flagship/common';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment as DeploymentModel } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig as loadApiConfig } from '../../services/api/src/config.ts';
import { loadConfig as loadEchoConfig } from '../../services/echo/src/config.ts';
import { SHUTDOWN_CLOSE_MARGIN_MS, loadConfig as loadWorkerConfig } from '../../services/worker/src/config.ts';
import {
  KUBERNETES_DIR,
  asProcessEnv,
  buildKustomization,
  buildOverlay,
  containerEnvironment,
  dataOf,
  findObject,
  objectsOfKind,
  overlayNames,
  type Container,
  type Deployment,
  type KubernetesObject,
} from './manifests.ts';

const ROOT = path.resolve(KUBERNETES_DIR, '../..');

/** The schema of each kind the manifests may hold; a kind missing here fails the test. */
const VALIDATORS: Record<string, (object: KubernetesObject) => void> = {
  'apps/v1 Deployment': (object) => new DeploymentModel(object as never).validate(),
  'v1 Service': (object) => new Service(object as never).validate(),
  'v1 ConfigMap': (object) => new ConfigMap(object as never).validate(),
  'v1 Secret': (object) => new Secret(withUnwrappedData(object) as never).validate(),
  'v1 Namespace': (object) => new Namespace(object as never).validate(),
  'v1 PersistentVolumeClaim': (object) => new PersistentVolumeClaim(object as never).validate(),
  'policy/v1 PodDisruptionBudget': (object) => new PodDisruptionBudget(object as never).validate(),
  'keda.sh/v1alpha1 ScaledObject': (object) => new ScaledObject(object as never).validate(),
  'keda.sh/v1alpha1 TriggerAuthentication': (object) => new TriggerAuthentication(object as never).validate(),
};

/**
 * Kustomize wraps a long Secret value's base64 over several lines. The API server decodes
 * it with Go's base64, which skips line breaks; the schema's "byte" format does not.
 */
function withUnwrappedData(secret: KubernetesObject): KubernetesObject {
  const data = (secret.data ?? {}) as Record<string, string>;
  const unwrapped = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.replace(/\s/g, '')]));
  return { ...secret, data: unwrapped };
}

/** Each Deployment, the Dockerfile target its image is built from. */
const COMPONENTS = { 'flagship-api': 'api', 'flagship-worker': 'worker', 'flagship-echo': 'echo' } as const;
type DeploymentName = keyof typeof COMPONENTS;

const builds = new Map<string, KubernetesObject[]>();
function built(overlay: string): KubernetesObject[] {
  let objects = builds.get(overlay);
  if (objects === undefined) {
    objects = buildOverlay(overlay);
    builds.set(overlay, objects);
  }
  return objects;
}

function deployment(objects: readonly KubernetesObject[], name: DeploymentName): Deployment {
  return findObject<Deployment>(objects, 'Deployment', name);
}

function onlyContainer(target: Deployment): Container {
  const [container, ...others] = target.spec.template.spec.containers;
  if (container === undefined || others.length > 0) throw new Error(`${target.metadata.name}: one container expected`);
  return container;
}

/** The Dockerfile's stage `target`: its USER (uid:gid) and whether it exists at all. */
function dockerfileUser(target: string): string | undefined {
  const stages = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m);
  const stage = stages.find((text) => new RegExp(`^\\S+ AS ${target}$`, 'm').test(text.split('\n')[0] ?? ''));
  if (stage === undefined) throw new Error(`the Dockerfile has no target ${target}`);
  return /^USER (\S+)$/m.exec(stage)?.[1];
}

interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}

/** Each service's ports and shutdown deadline, as it reads them from its settings in the manifests. */
function serviceSettings(objects: readonly KubernetesObject[], name: DeploymentName) {
  const env = asProcessEnv(containerEnvironment(objects, onlyContainer(deployment(objects, name))));
  switch (name) {
    case 'flagship-api': {
      const config = loadApiConfig(env);
      return { ports: { http: config.port }, shutdownMs: config.shutdownTimeoutMs, healthPort: 'http' };
    }
    case 'flagship-worker': {
      const config = loadWorkerConfig(env);
      // main.ts: jobs get SHUTDOWN_TIMEOUT_MS, closing one margin more, the forced exit another.
      const shutdownMs = config.shutdownTimeoutMs + 2 * SHUTDOWN_CLOSE_MARGIN_MS;
      return { ports: { health: config.healthPort }, shutdownMs, healthPort: 'health' };
    }
    case 'flagship-echo': {
      const config = loadEchoConfig(env);
      // main.ts: open sessions get ECHO_SHUTDOWN_TIMEOUT_MS, the forced closes 3 s more.
      const ports = { echo: config.server.port, metrics: config.metricsPort };
      return { ports, shutdownMs: config.shutdownTimeoutMs + 3_000, healthPort: 'metrics' };
    }
  }
}

describe('kubectl kustomize', () => {
  it('builds the base and finds at least one overlay', () => {
    // Components are built through the overlays that use them.
    const base = buildKustomization(path.join(KUBERNETES_DIR, 'base'));
    expect(objectsOfKind(base, 'Deployment').map((object) => object.metadata.name)).toEqual(
      expect.arrayContaining(Object.keys(COMPONENTS)),
    );
    expect(overlayNames()).toContain('example');
  });
});

describe.each(overlayNames())('overlay %s', (overlay) => {
  it('builds with kubectl kustomize, and every object validates against its schema', () => {
    const objects = built(overlay);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const validate = VALIDATORS[`${object.apiVersion} ${object.kind}`];
      if (validate === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}: add it`);
      expect(() => validate(object), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
  });

  it('has a Deployment, a PodDisruptionBudget and (but the worker) a Service per component', () => {
    const objects = built(overlay);
    for (const name of Object.keys(COMPONENTS) as DeploymentName[]) {
      const labels = deployment(objects, name).spec.template.metadata.labels;
      const selects = (selector: Record<string, string>) =>
        Object.entries(selector).every(([key, value]) => labels[key] === value);
      const budgets = objectsOfKind(objects, 'PodDisruptionBudget').filter((budget) =>
        selects((budget.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels),
      );
      expect(budgets, name).toHaveLength(1);
      // maxUnavailable, not minAvailable: a single worker must never block a node drain.
      expect(budgets[0]?.spec, name).toEqual(expect.objectContaining({ maxUnavailable: 1 }));
      const services = objectsOfKind(objects, 'Service').filter((service) =>
        selects((service.spec as { selector: Record<string, string> }).selector),
      );
      expect(services, name).toHaveLength(name === 'flagship-worker' ? 0 : 1);
    }
  });

  it("runs each image as the Dockerfile's target builds it, with its user", () => {
    const objects = built(overlay);
    for (const [name, target] of Object.entries(COMPONENTS) as [DeploymentName, string][]) {
      const pod = deployment(objects, name).spec.template.spec;
      const container = onlyContainer(deployment(objects, name));
      // The base names flagship/<target> (compose's tags); an overlay may move it to a registry.
      expect(container.image, name).toMatch(new RegExp(`(^|/)flagship/${target}(:[\\w.-]+)?$`));
      expect(container).not.toHaveProperty('command'); // the image's CMD carries the heap flags
      const securityContext = pod.securityContext as { runAsUser: number; runAsGroup: number };
      expect(`${securityContext.runAsUser}:${securityContext.runAsGroup}`, name).toBe(dockerfileUser(target));
    }
  });

  it('is hardened as compose is: non-root, read-only root filesystem, a writable /tmp only', () => {
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { read_only?: boolean; tmpfs?: string[] }>;
    };
    const objects = built(overlay);
    for (const [name, target] of Object.entries(COMPONENTS) as [DeploymentName, string][]) {
      expect(compose.services[target], target).toEqual(expect.objectContaining({ read_only: true, tmpfs: ['/tmp'] }));
      const pod = deployment(objects, name).spec.template.spec;
      const container = onlyContainer(deployment(objects, name));
      expect(pod.securityContext, name).toEqual(expect.objectContaining({ runAsNonRoot: true }));
      expect(pod.automountServiceAccountToken, name).toBe(false);
      expect(container.securityContext, name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      const mounts = (container.volumeMounts ?? []) as { name: string; mountPath: string; readOnly?: boolean }[];
      const volumes = (pod.volumes ?? []) as { name: string; emptyDir?: object }[];
      const tmp = mounts.find((mount) => mount.mountPath === '/tmp');
      expect(volumes.find((volume) => volume.name === tmp?.name)?.emptyDir, name).toBeDefined();
    }
  });

  it('probes the health endpoints on the ports the services listen on', () => {
    const objects = built(overlay);
    for (const name of Object.keys(COMPONENTS) as DeploymentName[]) {
      const container = onlyContainer(deployment(objects, name));
      const settings = serviceSettings(objects, name);
      for (const port of container.ports ?? []) {
        expect(port.containerPort, `${name} port ${port.name}`).toBe(
          settings.ports[port.name as keyof typeof settings.ports],
        );
      }
      const readiness = container.readinessProbe as Probe;
      const liveness = container.livenessProbe as Probe;
      expect(readiness.httpGet?.port, name).toBe(settings.healthPort);
      expect(liveness.httpGet?.port, name).toBe(settings.healthPort);
      // /healthz everywhere; the API's readiness asks /readyz, which PINGs Redis.
      expect(readiness.httpGet?.path, name).toBe(name === 'flagship-api' ? '/readyz' : '/healthz');
      expect(liveness.httpGet?.path, name).toBe('/healthz');
    }
  });

  it("gives every pod a termination grace longer than its service's own shutdown deadline", () => {
    const objects = built(overlay);
    for (const name of Object.keys(COMPONENTS) as DeploymentName[]) {
      const target = deployment(objects, name);
      const grace = target.spec.template.spec.terminationGracePeriodSeconds as number;
      const container = onlyContainer(target);
      const preStopMs =
        1000 * ((container.lifecycle as { preStop?: { sleep?: { seconds: number } } })?.preStop?.sleep?.seconds ?? 0);
      expect(grace * 1000, name).toBeGreaterThan(preStopMs + serviceSettings(objects, name).shutdownMs);
    }
  });

  it('requests memory and CPU, and limits memory, for every container', () => {
    const objects = built(overlay);
    for (const name of Object.keys(COMPONENTS) as DeploymentName[]) {
      const resources = onlyContainer(deployment(objects, name)).resources as {
        requests: Record<string, string>;
        limits: Record<string, string>;
      };
      expect(Object.keys(resources.requests).sort(), name).toEqual(['cpu', 'memory']);
      expect(mebibytes(resources.requests.memory), name).toBeLessThanOrEqual(mebibytes(resources.limits.memory));
    }
  });

  it('scales the workers with KEDA on the waiting jobs of both queues, summed (or sets their number)', () => {
    const objects = built(overlay);
    const scaled = objectsOfKind(objects, 'ScaledObject');
    const workers = deployment(objects, 'flagship-worker');
    if (scaled.length === 0) {
      // An overlay without components/keda-autoscaling says how many workers it wants.
      expect(workers.spec.replicas).toBeGreaterThan(0);
      return;
    }
    expect(scaled).toHaveLength(1);
    const spec = scaled[0]?.spec as ScaledObjectSpec;
    expect(spec.scaleTargetRef.name).toBe('flagship-worker');
    // KEDA owns the worker count: a replicas field would be reset by every apply.
    expect(workers.spec.replicas).toBeUndefined();
    const waitingKeys = Object.values(QueueNames).flatMap((queue) =>
      ['wait', 'prioritized'].map((state) => `${QUEUE_PREFIX}:${queue}:${state}`),
    );
    expect(spec.triggers.map((trigger) => trigger.metadata.listName).sort()).toEqual(waitingKeys.sort());
    for (const trigger of spec.triggers) expect(trigger.type).toBe('redis');
    const modifiers = spec.advanced.scalingModifiers;
    expect(modifiers.formula.split('+').map((term) => term.trim())).toEqual(spec.triggers.map((t) => t.name));
    expect(modifiers.metricType).toBe('AverageValue');
    // One worker per WORKER_CONCURRENCY waiting jobs: what one worker takes at once.
    const workerEnv = asProcessEnv(containerEnvironment(objects, onlyContainer(workers)));
    expect(Number(modifiers.target)).toBe(loadWorkerConfig(workerEnv).workerConcurrency);
  });

  it('gives KEDA the same Redis server and password as REDIS_URL', () => {
    const objects = built(overlay);
    const scaled = objectsOfKind(objects, 'ScaledObject')[0];
    if (scaled === undefined) return; // no KEDA in this overlay: nothing reads Redis but the services
    const spec = scaled.spec as ScaledObjectSpec;
    const redisUrl = new URL(
      asProcessEnv(containerEnvironment(objects, onlyContainer(deployment(objects, 'flagship-worker')))).REDIS_URL ??
        '',
    );
    for (const trigger of spec.triggers) {
      const auth = findObject(objects, 'TriggerAuthentication', trigger.authenticationRef.name).spec as {
        secretTargetRef: { parameter: string; name: string; key: string }[];
      };
      const parameters = Object.fromEntries(
        auth.secretTargetRef.map((ref) => [ref.parameter, dataOf(findObject(objects, 'Secret', ref.name))[ref.key]]),
      );
      expect(parameters.address).toBe(`${redisUrl.hostname}:${redisUrl.port || '6379'}`);
      expect(parameters.password).toBe(decodeURIComponent(redisUrl.password));
    }
  });
});

interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  triggers: { type: string; name: string; metadata: { listName: string }; authenticationRef: { name: string } }[];
  advanced: { scalingModifiers: { formula: string; target: string; metricType: string } };
}

/** A Kubernetes memory quantity (Mi, Gi, M, G or bytes) in MiB. */
function mebibytes(quantity: string | undefined): number {
  const match = /^(\d+)(Mi|Gi|M|G)?$/.exec(quantity ?? '');
  if (match === null) throw new Error(`unexpected memory quantity ${quantity}`);
  const factor = { Mi: 1, Gi: 1024, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 }[match[2] ?? ''] ?? 1 / 2 ** 20;
  return Number(match[1]) * factor;
}
