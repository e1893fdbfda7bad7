import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as gatewayV1 from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/**
 * Renders the Kustomize overlays under deploy/kubernetes with `kubectl kustomize` and validates the
 * objects against the Kubernetes OpenAPI schemas (kubernetes-models) and, for the custom resources,
 * their CRDs' schemas (the Prometheus Operator's, the Gateway API's).
 */

/** A rendered object: the tests check it field by field. */
export type K8sObject = Record<string, any>;

export const KUBECTL = 'kubectl';

export function kubectlAvailable(): boolean {
  return spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

/** The objects `kubectl kustomize dir` renders. */
export function render(dir: string): K8sObject[] {
  const res = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${res.status}):\n${res.stderr}`);
  const docs = parseAllDocuments(res.stdout);
  for (const d of docs) if (d.errors.length) throw new Error(`${dir}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
}

interface Validating {
  validate(): void;
}
type ModelClass = new (data: object) => Validating;

/** The module of each apiVersion this project uses: model classes by kind, and their `I<Kind>` types. */
const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
};
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'batch/v1': batchV1,
  'autoscaling/v2': autoscalingV2,
  'policy/v1': policyV1,
  'networking.k8s.io/v1': networkingV1,
  'monitoring.coreos.com/v1': monitoringV1,
  'gateway.networking.k8s.io/v1': gatewayV1,
};

/** The schema errors of one object, or [] when it is valid. An object of no known kind is an error. */
export function schemaErrors(o: K8sObject): string[] {
  const where = `${o.kind}/${o.metadata?.name}`;
  const model = MODELS[o.apiVersion]?.[o.kind] as ModelClass | undefined;
  if (typeof model !== 'function') return [`${where}: no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new model(o).validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}

export const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

export function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = byKind(objects, kind).filter((o) => name === undefined || o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as K8sObject;
}

/** Whether `selector` (matchLabels, or a Service's plain map) selects `labels`. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Fields the schemas do not know, at any depth: the OpenAPI schemas allow unknown properties (the
 * API server drops them, so a misspelt `readinesProbe` is silently no probe). The objects are typed
 * with kubernetes-models' TypeScript interfaces of the same schemas, and the compiler's excess
 * property check names every field that is not in them.
 */
let previous: ts.Program | undefined;

export function unknownFields(objects: K8sObject[]): string[] {
  // One line per object: its type's import (from the kind's own module: the package's index would
  // load every kind), then the object as a literal of that type.
  const typed = objects.filter((o) => MODULES[o.apiVersion]);
  const lines = typed.map(
    (o, i) =>
      `import type { I${o.kind} as T${i} } from '${MODULES[o.apiVersion]}/${o.kind}'; export const o${i}: T${i} = ${JSON.stringify(o)};`,
  );
  // A file beside this one, so that its imports resolve from the project's node_modules.
  const file = path.resolve('test/deploy/__kubernetes-fields__.ts');
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    // The interfaces need no more than the basic types.
    lib: ['lib.es5.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile.call(host, name, version, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  // The previous program's files (the interfaces' declarations) are reused: only this file is new.
  const program = ts.createProgram([file], options, host, previous);
  previous = program;
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const o = typed[line];
    return `${o ? `${o.kind}/${o.metadata?.name}` : '?'}: ${text}`;
  });
}
