import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { unavailable } from '../helpers/services.js';
import {
  CHART,
  type HelmResult,
  type HelmRun,
  helm,
  helmAll,
  helmMissing,
  removeValuesFiles,
  renderChart,
  renderCharts,
  renderedObjects,
} from './helm-render.js';
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
 * deploy/helm/llm-proxy: the chart lints and renders with a real Helm for each mode and the options
 * that change what it renders; every object is valid against its schema; it keeps the rules of the
 * Kustomize manifests (workload-rules.ts) and renders the same deployment as they do;
 * values.schema.json and the templates refuse bad values with a message that names them.
 */
const EVERYTHING_ON = {
  ingress: { enabled: true, tlsSecretName: 'llm-proxy-tls' },
  httpRoute: { enabled: true },
  monitoring: {
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    prometheusRule: { enabled: true },
  },
};
/** The value sets rendered: each mode by default, and the options that change what is rendered. */
const CASES: Record<string, { mode: 'single' | 'scale-out'; values: Record<string, any> }> = {
  'single (default values)': { mode: 'single', values: {} },
  'scale-out': { mode: 'scale-out', values: { mode: 'scale-out' } },
  'single, HTTPS in the pod from a TLS Secret, ingress, HTTPRoute, monitoring': {
    mode: 'single',
    values: { ...EVERYTHING_ON, tls: { enabled: true, secretName: 'llm-proxy-serving' } },
  },
  'scale-out, ingress, HTTPRoute, monitoring, more settings and secrets, SHUTDOWN_DELAY_MS instead of preStop': {
    mode: 'scale-out',
    values: {
      ...EVERYTHING_ON,
      mode: 'scale-out',
      image: { repository: 'ghcr.io/acme/llm-proxy', tag: '0.1.0' },
      settings: {
        AUTO_MIGRATE: false,
        PROXY_BODY_LIMIT_BYTES: 536870912,
        LOG_SAMPLE_RATE: 0.5,
        OIDC_CLIENT_ID: 'llm',
        HTTP2_CLEARTEXT: true,
      },
      secretEnv: { OIDC_CLIENT_SECRET: 'oidc-client-secret' },
      shutdown: { preStopSeconds: 0, delayMs: 10000, timeoutMs: 1800000, graceMarginSeconds: 20 },
      migrations: { databaseUrlKey: 'migrations-database-url' },
    },
  },
  'scale-out, a fixed replica count, no budget, no Job, no NetworkPolicy': {
    mode: 'scale-out',
    values: {
      mode: 'scale-out',
      autoscaling: { enabled: false },
      replicaCount: 4,
      podDisruptionBudget: { enabled: false },
      migrations: { enabled: false },
      networkPolicy: { enabled: false },
    },
  },
};

const helmReason = helmMissing();
const helmFound = helmReason === undefined || unavailable(`${helmReason}: skipping the Helm chart tests`);

/** Each case's `helm template` run: all started at once before the tests, each parsed when a test first asks. */
let caseRuns = new Map<string, HelmResult>();
const objectsOf = renderedOnce((name) => renderedObjects(caseRuns.get(name) as HelmResult));

/** name → the Secret key it is read from, of a container's env. */
function secretRefs(container: K8sObject): Record<string, { name: string; key: string }> {
  const out: Record<string, { name: string; key: string }> = {};
  for (const e of container.env ?? []) if (e.valueFrom?.secretKeyRef) out[e.name] = e.valueFrom.secretKeyRef;
  return out;
}

describe.skipIf(!helmFound)('deploy/helm/llm-proxy', () => {
  /** A folder for the archive and the broken copy of the chart. */
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-helm-'));
    const names = Object.keys(CASES);
    const runs = await helmAll(names.map((name): HelmRun => ['template', CASES[name]?.values ?? {}]));
    caseRuns = new Map(names.map((name, i) => [name, runs[i] as HelmResult]));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    removeValuesFiles();
  });

  it('is a Helm v2 chart whose appVersion is the package version, and lints clean in each case', async () => {
    const chart = parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8'));
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('llm-proxy');
    expect(chart.appVersion).toBe(pkg.version);
    const cases = Object.values(CASES).map(({ values }) => values);
    const lints = await helmAll(cases.map((values): HelmRun => ['lint', values]));
    for (const [i, lint] of lints.entries()) {
      expect(lint.stdout + lint.stderr, JSON.stringify(cases[i])).toContain('0 chart(s) failed');
      expect(lint.status).toBe(0);
    }
  });

  describe.each(Object.keys(CASES))('%s', (name) => {
    const { mode } = CASES[name] as { mode: 'single' | 'scale-out' };

    it('renders, and every object is valid against its Kubernetes or CRD schema, with no unknown field', () => {
      const objects = objectsOf(name);
      expect(objects.length).toBeGreaterThanOrEqual(4);
      expectValidObjects(objects);
      for (const o of objects) {
        expect(o.metadata.labels?.['app.kubernetes.io/instance'], `${o.kind}/${o.metadata.name}`).toBe('llm-proxy');
      }
    });

    it('holds no Secret and no secret value, only references to the existing Secret', () => {
      expectSecretsOnlyByReference(objectsOf(name));
    });

    it('sets only settings that exist', () => {
      expectOnlyKnownSettings(objectsOf(name));
    });

    it('runs every container non-root, read-only, without capabilities, with resources', () => {
      expectLockedDown(objectsOf(name));
    });

    it('probes /live and /ready on the container port, and drains longer than the longest stream', () => {
      expectProbesAndDrain(objectsOf(name));
    });

    it('routes the Service, Ingress, HTTPRoute and ServiceMonitor to the serving pods’ ports', () => {
      expectRoutesToServer(objectsOf(name));
    });

    it('has a NetworkPolicy (when enabled) that lets in the proxy and Prometheus, and out DNS, the upstream and the stores', () => {
      const objects = objectsOf(name);
      const policies = byKind(objects, 'NetworkPolicy');
      if (CASES[name]?.values.networkPolicy?.enabled === false) {
        expect(policies).toEqual([]);
        return;
      }
      expect(policies).toHaveLength(1);
      expectNetworkPolicy(objects, mode);
    });
  });

  it('single: one pod of a StatefulSet, SQLite in DATA_DIR on a volume claim, nothing that would start a second', () => {
    const objects = objectsOf('single (default values)');
    const w = expectSingleServer(objects);
    const [c] = w.spec.template.spec.containers;
    expect(w.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    expect(Object.keys(secretRefs(c)).sort()).toEqual(['ENCRYPTION_KEY', 'MANAGEMENT_TOKEN']);
    // Optional objects are off by default (their CRDs or controllers may be missing).
    for (const kind of ['Ingress', 'HTTPRoute', 'ServiceMonitor', 'PrometheusRule']) {
      expect(byKind(objects, kind), kind).toEqual([]);
    }
  });

  it('scale-out: a Deployment on PostgreSQL and Redis, autoscaled, spread, disruption-budgeted, migrated by a hook Job', () => {
    const objects = objectsOf('scale-out');
    const [c] = expectScaleOutServer(objects).spec.template.spec.containers;
    const refs = secretRefs(c);
    expect(refs.DATABASE_URL).toEqual({ name: 'llm-proxy', key: 'database-url' });
    expect(refs.REDIS_URL).toEqual({ name: 'llm-proxy', key: 'redis-url' });
    // The Job runs before the release's objects exist (install) or change (upgrade): it cannot use
    // the ConfigMap or the ServiceAccount of the release, so it carries the settings itself.
    const job = one(objects, 'Job', 'llm-proxy-migrate');
    expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(job.metadata.annotations['helm.sh/hook-delete-policy']).toBe('before-hook-creation');
    const js = job.spec.template.spec;
    expect(js.serviceAccountName).toBeUndefined();
    const [m] = js.containers;
    expect(m.args).toEqual(['migrate']);
    expect(m.image).toBe(c.image);
    expect(m.envFrom).toBeUndefined();
    expect(settings(objects, m)).toEqual(settings(objects, c));
    expect(secretRefs(m).DATABASE_URL).toEqual(refs.DATABASE_URL);
    expect(secretRefs(m).ENCRYPTION_KEY).toEqual(refs.ENCRYPTION_KEY);
  });

  it('scale-out options: a fixed replica count without an autoscaler, and the Job’s own database URL', () => {
    const fixed = objectsOf('scale-out, a fixed replica count, no budget, no Job, no NetworkPolicy');
    expect(server(fixed).spec.replicas).toBe(4);
    for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Job', 'NetworkPolicy']) {
      expect(byKind(fixed, kind), kind).toEqual([]);
    }
    const objects = objectsOf(
      'scale-out, ingress, HTTPRoute, monitoring, more settings and secrets, SHUTDOWN_DELAY_MS instead of preStop',
    );
    const [c] = server(objects).spec.template.spec.containers;
    expect(secretRefs(c).OIDC_CLIENT_SECRET).toEqual({ name: 'llm-proxy', key: 'oidc-client-secret' });
    const [m] = one(objects, 'Job', 'llm-proxy-migrate').spec.template.spec.containers;
    expect(secretRefs(m).DATABASE_URL).toEqual({ name: 'llm-proxy', key: 'migrations-database-url' });
    expect(secretRefs(c).DATABASE_URL?.key).toBe('database-url');
    // A Gateway reading the Service's appProtocol speaks cleartext HTTP/2 to the pods.
    expect(one(objects, 'Service').spec.ports[0].appProtocol).toBe('kubernetes.io/h2c');
    expect(one(objectsOf('scale-out'), 'Service').spec.ports[0].appProtocol).toBeUndefined();
    // Numbers and booleans are written as the program reads them (not 5.36870912e+08).
    expect(settings(objects, c)).toMatchObject({
      AUTO_MIGRATE: 'false',
      PROXY_BODY_LIMIT_BYTES: '536870912',
      LOG_SAMPLE_RATE: '0.5',
      SHUTDOWN_DELAY_MS: '10000',
      SHUTDOWN_TIMEOUT_MS: '1800000',
    });
  });

  it('computes the grace period from the drain values, and drops the preStop hook at 0', async () => {
    const [withHook, roundedUp, withoutHook] = (
      await renderCharts([
        { shutdown: { preStopSeconds: 10, delayMs: 0, timeoutMs: 600000, graceMarginSeconds: 20 } },
        { shutdown: { preStopSeconds: 5, delayMs: 2500, timeoutMs: 3600001, graceMarginSeconds: 0 } },
        { shutdown: { preStopSeconds: 0, delayMs: 10000, timeoutMs: 600000, graceMarginSeconds: 20 } },
      ])
    ).map((objects) => {
      const w = server(objects);
      return [w.spec.template.spec.terminationGracePeriodSeconds, w.spec.template.spec.containers[0].lifecycle];
    });
    expect(withHook).toEqual([630, { preStop: { sleep: { seconds: 10 } } }]);
    // Milliseconds round up to the next second.
    expect(roundedUp?.[0]).toBe(5 + 3603);
    expect(withoutHook).toEqual([630, undefined]);
  });

  it('HTTPS in the pod: the TLS Secret mounted where TLS_CERT_FILE and TLS_KEY_FILE point, spoken by the Ingress', () => {
    const objects = objectsOf('single, HTTPS in the pod from a TLS Secret, ingress, HTTPRoute, monitoring');
    const pod = server(objects).spec.template.spec;
    const [c] = pod.containers;
    const env = settings(objects, c);
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'tls');
    expect(mount).toMatchObject({ mountPath: '/etc/llm-proxy/tls', readOnly: true });
    // A directory mount (no subPath): a renewed Secret reaches the files, which the proxy reloads.
    expect(mount.subPath).toBeUndefined();
    expect(env.TLS_CERT_FILE).toBe(`${mount.mountPath}/tls.crt`);
    expect(env.TLS_KEY_FILE).toBe(`${mount.mountPath}/tls.key`);
    const volume = pod.volumes.find((v: { name: string }) => v.name === 'tls');
    expect(volume.secret.secretName).toBe('llm-proxy-serving');
    // Readable by the pod's group (fsGroup), by no one else.
    expect(volume.secret.defaultMode).toBe(0o440);
    expect(one(objects, 'Ingress').metadata.annotations['nginx.ingress.kubernetes.io/backend-protocol']).toBe('HTTPS');
    expect(one(objects, 'Service').spec.ports[0].appProtocol).toBe('https');
    expect(one(objects, 'Ingress').spec.tls).toEqual([
      { hosts: ['llm-proxy.example.com'], secretName: 'llm-proxy-tls' },
    ]);
  });

  it('the PrometheusRule holds the alert rules of deploy/prometheus/alerts.yml, through a generated copy', () => {
    const check = spawnSync(process.execPath, ['scripts/gen-prometheus-rule.mjs', '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const alerts = parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8'));
    const objects = objectsOf('single, HTTPS in the pod from a TLS Secret, ingress, HTTPRoute, monitoring');
    const rule = one(objects, 'PrometheusRule', 'llm-proxy');
    expect(rule.spec).toEqual(alerts);
    // Read as a file, never as a template: Prometheus's own {{ $labels.x }} arrive as they are.
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.upstream }}');
  });

  it('renders the same deployment as the Kustomize overlays', async () => {
    if (!kubectlAvailable() && !unavailable('kubectl is not installed: skipping the Helm–Kustomize comparison')) return;
    const modes = ['single', 'scale-out'] as const;
    // Each mode as it is, and with the options on.
    const rendered = await renderCharts(modes.flatMap((mode) => [{ mode }, { mode, ...EVERYTHING_ON }]));
    for (const [i, mode] of modes.entries()) {
      const [helmObjects, on] = rendered.slice(2 * i, 2 * i + 2) as [K8sObject[], K8sObject[]];
      const kustomize = render(`deploy/kubernetes/overlays/${mode}`);
      const [h, k] = [server(helmObjects), server(kustomize)];
      expect(h.kind, mode).toBe(k.kind);
      const [hp, kp] = [h.spec.template.spec, k.spec.template.spec];
      const [hc, kc] = [hp.containers[0], kp.containers[0]];
      // The container: probes, drain, ports, resources, security, volumes, the same settings and secrets.
      for (const field of [
        'args',
        'ports',
        'startupProbe',
        'livenessProbe',
        'readinessProbe',
        'lifecycle',
        'resources',
        'securityContext',
        'volumeMounts',
      ]) {
        expect(hc[field], `${mode} container ${field}`).toEqual(kc[field]);
      }
      expect(settings(helmObjects, hc), `${mode} settings`).toEqual(settings(kustomize, kc));
      expect(secretRefs(hc), `${mode} secrets`).toEqual(secretRefs(kc));
      for (const field of [
        'securityContext',
        'terminationGracePeriodSeconds',
        'automountServiceAccountToken',
        'enableServiceLinks',
        'volumes',
      ]) {
        expect(hp[field], `${mode} pod ${field}`).toEqual(kp[field]);
      }
      const sameSpread = (s: K8sObject[] | undefined) => s?.map(({ labelSelector: _, ...rest }) => rest);
      expect(sameSpread(hp.topologySpreadConstraints)).toEqual(sameSpread(kp.topologySpreadConstraints));
      const { selector: _hs, template: _ht, serviceName: _hn, volumeClaimTemplates: hv, ...hSpec } = h.spec;
      const { selector: _ks, template: _kt, serviceName: _kn, volumeClaimTemplates: kv, ...kSpec } = k.spec;
      expect(hSpec, `${mode} ${h.kind} spec`).toEqual(kSpec);
      expect(hv?.map((t: K8sObject) => t.spec)).toEqual(kv?.map((t: K8sObject) => t.spec));
      // The Service, the NetworkPolicy's rules, and scale-out's autoscaler and budget.
      expect(one(helmObjects, 'Service').spec.ports).toEqual(one(kustomize, 'Service').spec.ports);
      const rules = (o: K8sObject[]) => {
        const { podSelector: _, ...rest } = one(o, 'NetworkPolicy').spec;
        return rest;
      };
      expect(rules(helmObjects)).toEqual(rules(kustomize));
      if (mode === 'scale-out') {
        expect(one(helmObjects, 'HorizontalPodAutoscaler').spec).toEqual(
          one(kustomize, 'HorizontalPodAutoscaler').spec,
        );
        expect(one(helmObjects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(
          one(kustomize, 'PodDisruptionBudget').spec.maxUnavailable,
        );
        const [hj, kj] = [one(helmObjects, 'Job'), one(kustomize, 'Job')];
        const [hm, km] = [hj.spec.template.spec.containers[0], kj.spec.template.spec.containers[0]];
        for (const field of ['args', 'resources', 'securityContext', 'volumeMounts']) {
          expect(hm[field], `Job ${field}`).toEqual(km[field]);
        }
        expect(secretRefs(hm)).toEqual(secretRefs(km));
        expect(settings(helmObjects, hm)).toEqual(settings(kustomize, km));
      }
      // With the options on, the routes and monitoring objects are the Kustomize base's.
      const ingress = (o: K8sObject[]) => one(o, 'Ingress');
      expect(ingress(on).metadata.annotations).toEqual(ingress(kustomize).metadata.annotations);
      expect(ingress(on).spec).toEqual(ingress(kustomize).spec);
      expect(one(on, 'HTTPRoute').spec).toEqual(one(kustomize, 'HTTPRoute').spec);
      const endpoints = (o: K8sObject[]) => one(o, 'ServiceMonitor').spec.endpoints;
      expect(endpoints(on)).toEqual(endpoints(kustomize));
      expect(one(on, 'PrometheusRule').spec).toEqual(one(kustomize, 'PrometheusRule').spec);
    }
  });

  it('values.schema.json and the templates refuse bad values, naming them', async () => {
    const refusals: [object, RegExp][] = [
      [{ mode: 'multi' }, /\/mode': value must be one of 'single', 'scale-out'/],
      [{ ingres: { enabled: true } }, /additional properties 'ingres' not allowed/],
      [{ shutdown: { timeoutMs: '10m' } }, /\/shutdown\/timeoutMs': got string, want integer/],
      [{ service: { port: 70000 } }, /\/service\/port': maximum/],
      [{ settings: { log_level: 'debug' } }, /'log_level' does not match pattern/],
      [{ settings: { LOG_LEVEL: { level: 'debug' } } }, /\/settings\/LOG_LEVEL': got object/],
      [{ existingSecret: 'My Secret' }, /\/existingSecret': 'My Secret' does not match pattern/],
      [{ persistence: { size: 'ten gigs' } }, /\/persistence\/size': 'ten gigs' does not match pattern/],
      [{ monitoring: { serviceMonitor: { interval: 30 } } }, /\/monitoring\/serviceMonitor\/interval': got number/],
      // Settings that are secrets, or that the chart derives from other values, are not settings.
      [
        { settings: { MANAGEMENT_TOKEN: 'hunter2' } },
        /\/settings\/MANAGEMENT_TOKEN': value must be 'not set here: a secret/,
      ],
      [
        { settings: { DATABASE_URL: 'postgres://u:p@db/x' } },
        /\/settings\/DATABASE_URL': value must be 'not set here: a secret/,
      ],
      [
        { settings: { SHUTDOWN_TIMEOUT_MS: 5 } },
        /value must be 'not set here: the chart sets it from shutdown\.timeoutMs'/,
      ],
      [{ tls: { enabled: true } }, /\/tls\/secretName': minLength/],
    ];
    const failed = (res: { status: number | null; stdout: string; stderr: string }, message: RegExp, what: string) => {
      expect(res.status, what).not.toBe(0);
      expect(res.stdout + res.stderr, what).toMatch(message);
      // A refused secret is not repeated in the message.
      expect(res.stdout + res.stderr, what).not.toMatch(/hunter2|u:p@db/);
    };
    const refused = refusals.flatMap(([values, message]) =>
      (['template', 'lint'] as const).map((command) => ({ values, message, command })),
    );
    // The templates' own rules, which hold without the schema too (helm lint only logs a template's
    // refusal; install and template stop).
    const templateRules: [object, RegExp][] = [
      [{ image: { repository: 'r/llm-proxy', tag: 'latest' } }, /image\.tag: name a version, not latest/],
      [{ settings: { MANAGEMENT_TOKEN: 'hunter2' } }, /settings\.MANAGEMENT_TOKEN: a secret, never in values/],
      [{ settings: { LISTEN_ADDR: ':80' } }, /settings\.LISTEN_ADDR: set by the chart from ports\.http/],
      [
        { settings: { OIDC_ISSUER: 'https://id.example' }, secretEnv: { OIDC_ISSUER: 'issuer' } },
        /settings\.OIDC_ISSUER: also in secretEnv; keep one/,
      ],
      [{ tls: { enabled: true } }, /tls\.enabled: needs tls\.secretName/],
      [
        { tls: { enabled: true, secretName: 's' }, settings: { HTTP2_CLEARTEXT: 'true' } },
        /settings\.HTTP2_CLEARTEXT: not with tls\.enabled/,
      ],
    ];
    // Every Helm run of this test is started here, a few at a time; the checks follow in order.
    const results = await helmAll([
      ...refused.map(({ values, command }): HelmRun => [command, values]),
      ...templateRules.map(([values]): HelmRun => ['template', values, CHART, ['--skip-schema-validation']]),
      // The cluster's version too: the preStop sleep action needs 1.30; before, the delay does its work.
      ['template', {}, CHART, ['--kube-version', '1.29.0']],
      ['template', { shutdown: { preStopSeconds: 0, delayMs: 10000 } }, CHART, ['--kube-version', '1.29.0']],
      ['template', { shutdown: { preStopSeconds: 0, delayMs: 10000 } }, CHART, ['--kube-version', '1.26.0']],
    ]);
    const byRefusal = results.splice(0, refused.length);
    const byTemplateRule = results.splice(0, templateRules.length);
    const [at129, delayed, at126] = results;
    for (const [i, { values, message, command }] of refused.entries()) {
      failed(byRefusal[i] as HelmResult, message, `${command} ${JSON.stringify(values)}`);
    }
    for (const [i, [values, message]] of templateRules.entries()) {
      failed(byTemplateRule[i] as HelmResult, message, JSON.stringify(values));
    }
    failed(
      at129 as HelmResult,
      /shutdown\.preStopSeconds: the preStop sleep action needs Kubernetes 1\.30, this is v1\.29\.0/,
      '1.29',
    );
    expect(delayed?.status, delayed?.stderr).toBe(0);
    failed(at126 as HelmResult, /chart requires kubeVersion: >=1\.27\.0-0/, '1.26');
  });

  it('packages into an archive that renders on its own, and tells after an install where the secrets are', () => {
    const pkg = spawnSync('helm', ['package', CHART, '--destination', dir], { encoding: 'utf8' });
    expect(pkg.status, pkg.stderr).toBe(0);
    const archive = path.join(
      dir,
      `llm-proxy-${parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')).version}.tgz`,
    );
    // The alert rules are inside the chart (files/alerts.yml): an archive has nothing outside it.
    const packaged = renderChart({ mode: 'scale-out', monitoring: { prometheusRule: { enabled: true } } }, archive);
    expect(one(packaged, 'PrometheusRule').spec).toEqual(parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')));
    const image = { repository: 'registry.example.com/llm-proxy', digest: `sha256:${'a'.repeat(64)}` };
    expect(server(renderChart({ image }, archive)).spec.template.spec.containers[0].image).toBe(
      `registry.example.com/llm-proxy@sha256:${'a'.repeat(64)}`,
    );
    // What `helm install` prints (NOTES.txt), without a cluster.
    const install = spawnSync(
      'helm',
      [
        'install',
        'llm-proxy',
        archive,
        '--dry-run=client',
        '--namespace',
        'llm-proxy',
        '--set',
        'existingSecret=proxy-secrets',
      ],
      { encoding: 'utf8' },
    );
    expect(install.status, install.stderr).toBe(0);
    const notes = install.stdout.slice(install.stdout.indexOf('NOTES:'));
    expect(notes).toContain(
      "kubectl get secret proxy-secrets --namespace llm-proxy -o jsonpath='{.data.management-token}' | base64 -d",
    );
    expect(notes).toContain('kubectl port-forward service/llm-proxy 8080:80 --namespace llm-proxy');
  });

  it('the checks refuse a broken template and a value that breaks an object', () => {
    // A copy of the chart with a misspelt field and a wrongly typed one, as a bad edit would make.
    const broken = path.join(dir, 'llm-proxy');
    cpSync(CHART, broken, { recursive: true });
    const pod = path.join(broken, 'templates/_pod.tpl');
    const text = readFileSync(pod, 'utf8');
    expect(text).toContain('      readinessProbe:');
    writeFileSync(
      pod,
      text
        .replace('      readinessProbe:', '      readinesProbe:')
        .replace(/terminationGracePeriodSeconds: (.*)/, 'terminationGracePeriodSeconds: "$1s"'),
    );
    const objects = renderChart({}, broken);
    const errors = objects.flatMap(schemaErrors).join('\n');
    expect(errors).toContain('terminationGracePeriodSeconds must be integer');
    expect(unknownFields(objects).join('\n')).toMatch(/StatefulSet\/llm-proxy: .*readinesProbe"?' does not exist/);
    // Free-form Kubernetes values pass the values schema; the objects' schemas catch them.
    const bad = renderChart({ podSecurityContext: { runAsNonRoot: true, runAsUser: 'nobody' } });
    expect(schemaErrors(server(bad)).join('\n')).toContain('securityContext/runAsUser must be integer');
  });

  it('docs/kubernetes.md’s Helm values example lints and renders, and its Secret holds every key the chart reads', () => {
    const doc = readFileSync('docs/kubernetes.md', 'utf8');
    const section = doc.slice(doc.indexOf('\n## Helm\n'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] as string;
    expect(example).toContain('mode: scale-out');
    const values = parse(example);
    const lint = helm('lint', values);
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    const objects = renderChart(values);
    expect(objects.flatMap(schemaErrors)).toEqual([]);
    expect(unknownFields(objects)).toEqual([]);
    expect(server(objects).spec.template.spec.containers[0].image).toBe('ghcr.io/acme/llm-proxy:0.1.0');
    const referenced = new Set<string>();
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        for (const ref of Object.values(secretRefs(c))) referenced.add(ref.key);
      }
    }
    const created = new Set([...doc.matchAll(/--from-literal=([a-z-]+)=/g)].map((m) => m[1]));
    expect([...referenced].filter((k) => !created.has(k))).toEqual([]);
    expect(section).toContain('helm install llm-proxy deploy/helm/llm-proxy');
  });
});
