// Reading the Kubernetes manifests as Kubernetes would receive them: every overlay built
// by `kubectl kustomize` (kubectl's own kustomize, as `kubectl apply -k` runs it), parsed
// into plain objects, and the environment a container gets from them resolved. Used by
// the manifest tests here and by tests/keda-backlog-keys.test.ts.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const KUBERNETES_DIR = import.meta.dirname;
export const OVERLAYS_DIR = path.join(KUBERNETES_DIR, 'overlays');

/** What every Kubernetes object has; the rest is read where it is needed. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  [field: string]: unknown;
}

export interface Deployment extends KubernetesObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

/** Every overlay folder: each is a deployment someone may apply, so each is checked. */
export function overlayNames(): string[] {
  return readdirSync(OVERLAYS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** `kubectl kustomize <dir>`: the objects `kubectl apply -k <dir>` would send. */
export function buildKustomization(dir: string): KubernetesObject[] {
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT')
      throw new Error('kubectl is not installed (Debian: apt-get install kubectl)', { cause: error });
    throw new Error(`kubectl kustomize ${dir} failed: ${stderr ?? String(error)}`, { cause: error });
  }
  return parseAllDocuments(output)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

export function buildOverlay(name: string): KubernetesObject[] {
  return buildKustomization(path.join(OVERLAYS_DIR, name));
}

export function objectsOfKind<T extends KubernetesObject = KubernetesObject>(
  objects: readonly KubernetesObject[],
  kind: string,
): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}

export function findObject<T extends KubernetesObject = KubernetesObject>(
  objects: readonly KubernetesObject[],
  kind: string,
  name: string,
): T {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} named ${name}`);
  return found as T;
}

/** A ConfigMap's or Secret's values as text (a Secret's `data` is base64). */
export function dataOf(object: KubernetesObject): Record<string, string> {
  const data = (object.data ?? {}) as Record<string, string>;
  if (object.kind !== 'Secret') return { ...data, ...((object.stringData ?? {}) as Record<string, string>) };
  const decoded = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
  return { ...decoded, ...((object.stringData ?? {}) as Record<string, string>) };
}

export type EnvSource = 'value' | 'configMap' | 'secret';

/** One variable a container gets, with where it came from. */
export interface ResolvedVariable {
  value: string;
  source: EnvSource;
}

/**
 * The variables a container gets from its manifest (not the image's ENV), as the
 * kubelet resolves them: `envFrom` first, then `env`, a later one winning.
 */
export function containerEnvironment(
  objects: readonly KubernetesObject[],
  container: Container,
): Map<string, ResolvedVariable> {
  const environment = new Map<string, ResolvedVariable>();
  for (const from of container.envFrom ?? []) {
    const [kind, name, source]: [string, string | undefined, EnvSource] = from.configMapRef
      ? ['ConfigMap', from.configMapRef.name, 'configMap']
      : ['Secret', from.secretRef?.name, 'secret'];
    if (name === undefined) throw new Error(`container ${container.name}: an envFrom entry names nothing`);
    for (const [key, value] of Object.entries(dataOf(findObject(objects, kind, name)))) {
      environment.set(key, { value, source });
    }
  }
  for (const variable of container.env ?? []) {
    environment.set(variable.name, resolveVariable(objects, variable));
  }
  return environment;
}

function resolveVariable(objects: readonly KubernetesObject[], variable: EnvVar): ResolvedVariable {
  const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
  if (secretKeyRef !== undefined) return fromKey(objects, 'Secret', secretKeyRef, 'secret');
  if (configMapKeyRef !== undefined) return fromKey(objects, 'ConfigMap', configMapKeyRef, 'configMap');
  return { value: variable.value ?? '', source: 'value' };
}

function fromKey(
  objects: readonly KubernetesObject[],
  kind: string,
  ref: { name: string; key: string },
  source: EnvSource,
): ResolvedVariable {
  const value = dataOf(findObject(objects, kind, ref.name))[ref.key];
  if (value === undefined) throw new Error(`${kind} ${ref.name} has no key ${ref.key}`);
  return { value, source };
}

/** A resolved environment as `process.env` would hold it. */
export function asProcessEnv(environment: Map<string, ResolvedVariable>): Record<string, string> {
  return Object.fromEntries([...environment].map(([name, { value }]) => [name, value]));
}
