import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { unavailable } from '../helpers/services.js';
import {
  byKind,
  type K8sObject,
  kubectlAvailable,
  one,
  render,
  schemaErrors,
  unknownFields,
} from './kubernetes-render.js';
import {
  expectLockedDown,
  expectNetworkPolicy,
  expectOnlyKnownSettings,
  expectProbesAndDrain,
  expectRoutesToServer,
  expectScaleOutServer,
  expectSecretsOnlyByReference,
  expectSingleServer,
  expectValidObjects,
  renderedOnce,
  server,
  settings,
  workloads,
} from './workload-rules.js';

/**
 * deploy/kubernetes: each overlay renders with `kubectl kustomize`, every object is valid against
 * its schema, and the manifests keep the rules a production install needs (workload-rules.ts:
 * probes, a drain that covers the longest stream, a locked-down security context, secrets only by
 * reference, a NetworkPolicy that lets through what the pods need).
 */
const OVERLAYS = ['single', 'scale-out'] as const;

const kubectl =
  kubectlAvailable() ||
  unavailable('kubectl is not installed (scripts/install-kubectl.sh): skipping the Kustomize tests');
const objectsOf = renderedOnce((overlay) => render(`deploy/kubernetes/overlays/${overlay}`));

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-kustomize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!kubectl)('deploy/kubernetes', () => {
  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    it('renders, and every object is valid against its Kubernetes or CRD schema', () => {
      const objects = objectsOf(overlay);
      expect(objects.length).toBeGreaterThan(5);
      expectValidObjects(objects);
    });

    it('holds no Secret and no secret value, only references to an existing Secret', () => {
      expectSecretsOnlyByReference(objectsOf(overlay));
    });

    it('sets only settings that exist', () => {
      expectOnlyKnownSettings(objectsOf(overlay), ['CONFIG_FILE']);
    });

    it('runs every container non-root, read-only, without capabilities, with resources', () => {
      expectLockedDown(objectsOf(overlay));
    });

    it('probes /live and /ready on the container port, and drains longer than the longest stream', () => {
      const objects = objectsOf(overlay);
      expectProbesAndDrain(objects);
      // The overlays keep the pod serving with a preStop sleep while the endpoints are updated.
      expect(server(objects).spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds).toBeGreaterThan(0);
    });

    it('routes the Service, Ingress, HTTPRoute and ServiceMonitor to the serving pods’ ports', () => {
      const objects = objectsOf(overlay);
      expectRoutesToServer(objects);
      // The overlays have each of them (the base's).
      for (const kind of ['Ingress', 'HTTPRoute', 'ServiceMonitor']) one(objects, kind, 'llm-proxy');
    });

    it('has a NetworkPolicy that lets in the proxy and Prometheus, and out DNS, the upstream and the stores', () => {
      expectNetworkPolicy(objectsOf(overlay), overlay);
    });
  });

  it('single: one pod of a StatefulSet, SQLite in DATA_DIR on a volume claim', () => {
    expectSingleServer(objectsOf('single'));
  });

  it('scale-out: a Deployment on PostgreSQL and Redis, autoscaled, spread, disruption-budgeted, migrated by a Job', () => {
    const objects = objectsOf('scale-out');
    const [c] = expectScaleOutServer(objects).spec.template.spec.containers;
    const job = one(objects, 'Job', 'llm-proxy-migrate');
    const [m] = job.spec.template.spec.containers;
    expect(m.args).toEqual(['migrate']);
    expect(m.image).toBe(c.image);
    const jobEnv = new Map(m.env.map((e: K8sObject) => [e.name, e.valueFrom.secretKeyRef]));
    const podEnv = new Map(c.env.map((e: K8sObject) => [e.name, e.valueFrom.secretKeyRef]));
    // The Job migrates the database the pods use, and can read its keys.
    expect(jobEnv.get('DATABASE_URL')).toEqual(podEnv.get('DATABASE_URL'));
    expect(jobEnv.get('ENCRYPTION_KEY')).toEqual(podEnv.get('ENCRYPTION_KEY'));
    // The pods migrate at start too (AUTO_MIGRATE), safe beside the Job: PostgreSQL's advisory lock.
    expect(settings(objects, c).AUTO_MIGRATE).not.toBe('false');
  });

  it('docs/kubernetes.md creates the Secret with every key the overlays reference', () => {
    const referenced = new Set<string>();
    for (const overlay of OVERLAYS) {
      for (const w of workloads(objectsOf(overlay))) {
        for (const c of w.spec.template.spec.containers) {
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            if (!ref) continue;
            expect(ref.name).toBe('llm-proxy');
            referenced.add(ref.key);
          }
        }
      }
    }
    const doc = readFileSync('docs/kubernetes.md', 'utf8');
    const created = new Set([...doc.matchAll(/--from-literal=([a-z-]+)=/g)].map((m) => m[1]));
    expect([...created].sort()).toEqual([...referenced].sort());
  });

  it('the overlay of your own that docs/kubernetes.md shows renders, with its changes', () => {
    const doc = readFileSync('docs/kubernetes.md', 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('\n## Make it yours\n')))?.[1] as string;
    expect(example).toContain('../llm-proxy/deploy/kubernetes/overlays/scale-out');
    // Beside a clone named llm-proxy, as the page says.
    symlinkSync(process.cwd(), path.join(dir, 'llm-proxy'));
    mkdirSync(path.join(dir, 'my-llm-proxy'));
    writeFileSync(path.join(dir, 'my-llm-proxy', 'kustomization.yaml'), example);
    const objects = render(path.join(dir, 'my-llm-proxy'));
    expect(objects.flatMap(schemaErrors)).toEqual([]);
    expect(unknownFields(objects)).toEqual([]);
    expect(byKind(objects, 'HTTPRoute')).toEqual([]);
    expect(one(objects, 'Ingress', 'llm-proxy').spec.rules[0].host).toBe('llm.acme.example');
    for (const w of workloads(objects)) {
      expect(w.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/llm-proxy:0.1.0');
    }
  });

  it('the PrometheusRule holds the alert rules of deploy/prometheus/alerts.yml, generated from it', () => {
    const check = spawnSync(process.execPath, ['scripts/gen-prometheus-rule.mjs', '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const alerts = readFileSync('deploy/prometheus/alerts.yml', 'utf8');
    const rule = one(objectsOf('scale-out'), 'PrometheusRule', 'llm-proxy');
    expect(rule.spec).toEqual(parse(alerts));
    expect(rule.spec.groups[0].rules.length).toBeGreaterThan(5);
  });

  it('the schema check refuses broken objects', () => {
    const objects = objectsOf('scale-out');
    const broken = structuredClone(server(objects));
    broken.spec.template.spec.containers[0].readinessProbe.httpGet.port = undefined;
    broken.spec.template.spec.terminationGracePeriodSeconds = '630s';
    const errors = schemaErrors(broken).join('\n');
    expect(errors).toContain('readinessProbe/httpGet must have required property port');
    expect(errors).toContain('terminationGracePeriodSeconds must be integer');
    const rule = structuredClone(one(objects, 'PrometheusRule', 'llm-proxy'));
    rule.spec.groups[0].rules[0].for = '10 minutes';
    expect(schemaErrors(rule).join('\n')).toMatch(/for must match pattern/);
    const route = structuredClone(one(objects, 'HTTPRoute', 'llm-proxy'));
    route.spec.rules[0].timeouts.request = 'forever';
    expect(schemaErrors(route).join('\n')).toMatch(/timeouts\/request must match pattern/);
    // A misspelt field, which the schemas let through and the API server would drop.
    const typo = structuredClone(server(objects));
    const [c] = typo.spec.template.spec.containers;
    c.readinesProbe = c.readinessProbe;
    c.readinessProbe = undefined;
    typo.spec.template.spec.securityContext.runAsNonRot = true;
    expect(schemaErrors(typo)).toEqual([]);
    const fields = unknownFields([typo]).join('\n');
    expect(fields).toMatch(/Deployment\/llm-proxy: .*readinesProbe"?' does not exist in type 'IContainer'/);
    expect(fields).toMatch(/Deployment\/llm-proxy: .*runAsNonRot"?' does not exist in type 'IPodSecurityContext'/);
    expect(schemaErrors({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toEqual([
      'Deploymnet/x: no schema for apps/v1 Deploymnet',
    ]);
  });
});
