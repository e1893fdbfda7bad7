import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { K8sObject } from './kubernetes-render.js';

/**
 * Lints and renders the Helm chart deploy/helm/llm-proxy with a real Helm (4; installed by
 * scripts/install-kubectl.sh), as `helm install` would for the release `llm-proxy` in the
 * namespace `llm-proxy` on the oldest Kubernetes the chart supports. The objects are then checked
 * with kubernetes-render.ts's schema validation and unknown-field check, as the Kustomize ones.
 */
export const HELM = 'helm';
export const CHART = 'deploy/helm/llm-proxy';
/** The oldest Kubernetes with every feature the default values use (the preStop sleep action). */
export const KUBE_VERSION = '1.30.0';

/**
 * Why the tests cannot run, or undefined when Helm 4 is there. The chart works with Helm 3 too; the
 * tests need 4 for its messages (Helm 3 words schema errors differently) and for a client-only
 * `helm install --dry-run=client`, which Helm 3 does not do without a cluster.
 */
export function helmMissing(): string | undefined {
  const res = spawnSync(HELM, ['version', '--short'], { encoding: 'utf8' });
  if (res.status !== 0) return 'helm is not installed (scripts/install-kubectl.sh installs it)';
  if (!/^v([4-9]|\d{2,})\./.test(res.stdout)) {
    return `helm ${res.stdout.trim()} is older than 4 (scripts/install-kubectl.sh installs Helm 4)`;
  }
  return undefined;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Where the values files go: made at the first render, removed by removeValuesFiles. */
let valuesDir: string | undefined;
let valuesFiles = 0;

/** Removes the values files written so far (a test file's afterAll). */
export function removeValuesFiles(): void {
  if (valuesDir) rmSync(valuesDir, { recursive: true, force: true });
  valuesDir = undefined;
}

/** The arguments of `helm <command> …` with `values` written to a values file (as a user's my-values.yaml). */
function helmArgs(command: 'template' | 'lint', values: object, chart: string, extra: string[]): string[] {
  valuesDir ??= mkdtempSync(path.join(tmpdir(), 'llmp-helm-values-'));
  const file = path.join(valuesDir, `values-${++valuesFiles}.yaml`);
  writeFileSync(file, stringify(values));
  const args =
    command === 'template'
      ? ['template', 'llm-proxy', chart, '--namespace', 'llm-proxy', '--kube-version', KUBE_VERSION, '-f', file]
      : ['lint', '--strict', chart, '--namespace', 'llm-proxy', '--kube-version', KUBE_VERSION, '-f', file];
  return [...args, ...extra];
}

/** `helm <command> …` with `values` given as a values file (as a user's my-values.yaml). */
export function helm(
  command: 'template' | 'lint',
  values: object = {},
  chart = CHART,
  extra: string[] = [],
): HelmResult {
  const res = spawnSync(HELM, helmArgs(command, values, chart, extra), {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** As `helm`, without blocking the test's process, so that several run at once (see helmAll). */
function helmAsync(
  command: 'template' | 'lint',
  values: object = {},
  chart = CHART,
  extra: string[] = [],
): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(HELM, helmArgs(command, values, chart, extra));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The arguments of one `helm` call. */
export type HelmRun = Parameters<typeof helm>;

/**
 * Runs `helm` with each of `runs`, a few at a time, and gives their results in the order of `runs`.
 * Each Helm run is a process that mostly starts up and waits: side by side they take a fraction of
 * the time they take one after the other, and a few at a time keep a 2-core machine from thrashing.
 */
export async function helmAll(runs: HelmRun[], atOnce = 4): Promise<HelmResult[]> {
  const results: HelmResult[] = new Array(runs.length);
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await helmAsync(...(runs[i] as HelmRun));
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, runs.length) }, worker));
  return results;
}

/** The objects of a `helm template` run; throws with Helm's message if it refused. */
export function renderedObjects(res: HelmResult): K8sObject[] {
  if (res.status !== 0) throw new Error(`helm template failed (${res.status}):\n${res.stderr}`);
  const docs = parseAllDocuments(res.stdout);
  for (const d of docs)
    if (d.errors.length) throw new Error(`helm template: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
}

/** The objects `helm template` renders with `values`; throws with Helm's message if it refuses. */
export function renderChart(values: object = {}, chart = CHART): K8sObject[] {
  return renderedObjects(helm('template', values, chart));
}

/** renderChart for each of `valueSets`, a few at a time (see helmAll). */
export async function renderCharts(valueSets: object[], chart = CHART): Promise<K8sObject[][]> {
  return (await helmAll(valueSets.map((values): HelmRun => ['template', values, chart]))).map(renderedObjects);
}
