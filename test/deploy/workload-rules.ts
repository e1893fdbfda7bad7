import { expect } from 'vitest';
import { SETTING_DOCS } from '../../src/config/settings-docs.js';
import { byKind, type K8sObject, one, schemaErrors, selects, unknownFields } from './kubernetes-render.js';

/**
 * The rules every rendered deployment keeps, whether Kustomize (kubernetes.test.ts) or Helm
 * (helm.test.ts) rendered it: valid objects, secrets only by reference, settings that exist,
 * locked-down containers, probes and a drain that covers the longest stream, routes to the serving
 * pods' ports, and a NetworkPolicy that lets through what the pods need. Each function checks with
 * vitest's expect; the test files add what is their own.
 */
const WORKLOADS = ['StatefulSet', 'Deployment', 'Job'];
/** Settings whose value is a secret, or holds one (a password in a URL, a header with a token). */
const SECRET_SETTINGS = [
  'MANAGEMENT_TOKEN',
  'ENCRYPTION_KEY',
  'ENCRYPTION_KEY_PREVIOUS',
  'DATABASE_URL',
  'REDIS_URL',
  'OIDC_CLIENT_SECRET',
  'SHIPPING_WEBHOOK_SECRET',
];

export const workloads = (objects: K8sObject[]) => objects.filter((o) => WORKLOADS.includes(o.kind));
export const podLabels = (w: K8sObject): Record<string, string> => w.spec.template.metadata?.labels ?? {};

/** `render` with each name's objects kept: a test file renders each overlay or value set once. */
export function renderedOnce(render: (name: string) => K8sObject[]): (name: string) => K8sObject[] {
  const rendered = new Map<string, K8sObject[]>();
  return (name) => {
    let objects = rendered.get(name);
    if (!objects) {
      objects = render(name);
      rendered.set(name, objects);
    }
    return objects;
  };
}

/** The serving workload: the one the Service selects. */
export function server(objects: K8sObject[]): K8sObject {
  const service = one(objects, 'Service', 'llm-proxy');
  const found = workloads(objects).filter((w) => selects(service.spec.selector, podLabels(w)));
  expect(found.map((w) => w.kind)).toHaveLength(1);
  return found[0] as K8sObject;
}

/** The settings a container gets: its ConfigMaps' (envFrom) and its plain env values. */
export function settings(objects: K8sObject[], container: K8sObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const from of container.envFrom ?? [])
    Object.assign(out, one(objects, 'ConfigMap', from.configMapRef.name).data);
  for (const e of container.env ?? []) if (e.value !== undefined) out[e.name] = e.value;
  return out;
}

/** Every object valid against its schema, with no unknown field, labelled and in the namespace. */
export function expectValidObjects(objects: K8sObject[]): void {
  expect(objects.flatMap(schemaErrors)).toEqual([]);
  expect(unknownFields(objects)).toEqual([]);
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    expect(o.metadata.labels?.['app.kubernetes.io/name'], where).toBe('llm-proxy');
    expect(o.metadata.namespace, where).toBe('llm-proxy');
  }
}

/** No Secret and no secret value: secret settings only by reference to the existing Secret. */
export function expectSecretsOnlyByReference(objects: K8sObject[]): void {
  expect(byKind(objects, 'Secret')).toEqual([]);
  for (const w of workloads(objects)) {
    for (const c of w.spec.template.spec.containers) {
      for (const e of c.env ?? []) {
        if (SECRET_SETTINGS.includes(e.name)) {
          expect(e.valueFrom?.secretKeyRef?.name, `${c.name} ${e.name}`).toBe('llm-proxy');
        }
      }
      const values = settings(objects, c);
      for (const s of SECRET_SETTINGS) expect(values[s], `${s} in a ConfigMap or value`).toBeUndefined();
    }
  }
}

/** The ConfigMaps and env name only settings that exist (or `extraKnown`), as strings. */
export function expectOnlyKnownSettings(objects: K8sObject[], extraKnown: string[] = []): void {
  const known = new Set([...Object.keys(SETTING_DOCS), ...extraKnown]);
  for (const cm of byKind(objects, 'ConfigMap')) {
    expect(Object.keys(cm.data).filter((k) => !known.has(k))).toEqual([]);
    for (const v of Object.values(cm.data)) expect(typeof v).toBe('string');
  }
  for (const w of workloads(objects)) {
    for (const c of w.spec.template.spec.containers) {
      expect((c.env ?? []).map((e: { name: string }) => e.name).filter((k: string) => !known.has(k))).toEqual([]);
    }
  }
}

/** Every container non-root, read-only, without capabilities, with resources and a tagged image. */
export function expectLockedDown(objects: K8sObject[]): void {
  expect(workloads(objects).length).toBeGreaterThan(0);
  for (const w of workloads(objects)) {
    const pod = w.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot, w.kind).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.automountServiceAccountToken).toBe(false);
    const volumes = new Set((pod.volumes ?? []).map((v: { name: string }) => v.name));
    for (const claim of w.spec.volumeClaimTemplates ?? []) volumes.add(claim.metadata.name);
    for (const c of pod.containers) {
      const where = `${w.kind} ${c.name}`;
      expect(c.securityContext, where).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(c.securityContext.capabilities.drop, where).toContain('ALL');
      expect(c.securityContext.capabilities.add, where).toBeUndefined();
      expect(c.resources.requests.cpu, where).toBeDefined();
      expect(c.resources.requests.memory, where).toBeDefined();
      expect(c.resources.limits.memory, where).toBeDefined();
      // The image is the project's, tagged (never :latest on a cluster).
      expect(c.image, where).toMatch(/llm-proxy:\d+\.\d+\.\d+$/);
      // With a read-only root, /tmp and DATA_DIR are volumes of the pod.
      const mounts = (c.volumeMounts ?? []) as { mountPath: string; name: string }[];
      expect(
        mounts.map((m) => m.mountPath),
        `${where} /tmp`,
      ).toContain('/tmp');
      for (const m of mounts) expect(volumes.has(m.name), `${where} ${m.name}`).toBe(true);
    }
  }
}

/**
 * The serving container probes /live and /ready on its own port (HTTPS when it has a certificate),
 * listens where its settings say, keeps DATA_DIR on a volume, and its pod's grace period covers
 * the preStop sleep and the drain.
 */
export function expectProbesAndDrain(objects: K8sObject[]): void {
  const pod = server(objects).spec.template.spec;
  const [c] = pod.containers;
  const ports = new Map(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
  expect(c.livenessProbe.httpGet.path).toBe('/live');
  expect(c.readinessProbe.httpGet.path).toBe('/ready');
  expect(c.startupProbe.httpGet.path).toBe('/live');
  const env = settings(objects, c);
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    expect(ports.has(probe.httpGet.port)).toBe(true);
    // The pod serves HTTPS when it has a certificate, and the kubelet must speak it.
    expect(probe.httpGet.scheme ?? 'HTTP').toBe(env.TLS_CERT_FILE ? 'HTTPS' : 'HTTP');
  }
  // The ports the settings name are the container's.
  expect(`:${ports.get('http')}`).toBe(env.LISTEN_ADDR);
  expect(`:${ports.get('metrics')}`).toBe(env.METRICS_LISTEN_ADDR);
  expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain(env.DATA_DIR);
  // grace ≥ preStop + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS, or a pod being replaced is killed
  // mid-stream.
  const preStop = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) as number;
  const drain = (Number(env.SHUTDOWN_DELAY_MS ?? 0) + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000;
  // Something keeps the pod serving while the endpoints are updated: the preStop sleep or the delay.
  expect(preStop > 0 || Number(env.SHUTDOWN_DELAY_MS) > 0).toBe(true);
  // At least UPSTREAM_HEADERS_TIMEOUT_MS's default: the longest wait for a first byte.
  expect(Number(env.SHUTDOWN_TIMEOUT_MS)).toBeGreaterThanOrEqual(600_000);
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drain);
}

/** The Service, and each Ingress, HTTPRoute and ServiceMonitor there is, reach the serving pods' ports. */
export function expectRoutesToServer(objects: K8sObject[]): void {
  const w = server(objects);
  const containerPorts = w.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name);
  const service = one(objects, 'Service', 'llm-proxy');
  const servicePorts = new Map(service.spec.ports.map((p: { name: string; port: number }) => [p.name, p]));
  for (const p of service.spec.ports) expect(containerPorts).toContain(p.targetPort);
  // The selector of the workload is its pods', and the Service never selects the migrations Job.
  expect(selects(w.spec.selector.matchLabels, podLabels(w))).toBe(true);
  for (const other of workloads(objects).filter((o) => o !== w)) {
    expect(selects(service.spec.selector, podLabels(other)), other.kind).toBe(false);
  }
  for (const ingress of byKind(objects, 'Ingress')) {
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect(servicePorts.has(backend.port.name)).toBe(true);
    // The nginx settings of docs/scaling.md: streams unbuffered, reads longer than a first byte may take.
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '660',
    });
  }
  for (const route of byKind(objects, 'HTTPRoute')) {
    const ref = route.spec.rules[0].backendRefs[0];
    expect(ref.name).toBe(service.metadata.name);
    expect([...servicePorts.values()].some((p) => (p as { port: number }).port === ref.port)).toBe(true);
    expect(route.spec.rules[0].timeouts.request).toBe('0s');
  }
  for (const monitor of byKind(objects, 'ServiceMonitor')) {
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(monitor.spec.endpoints[0].port).toBe('metrics');
    expect(servicePorts.has('metrics')).toBe(true);
  }
}

/**
 * The NetworkPolicy selects every workload's pods, lets in only the proxy's and the metrics port,
 * and lets out DNS (to the cluster's DNS pods), the upstream (443), and in scale-out the stores.
 */
export function expectNetworkPolicy(objects: K8sObject[], mode: 'single' | 'scale-out'): void {
  const policy = one(objects, 'NetworkPolicy', 'llm-proxy');
  expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  for (const w of workloads(objects)) expect(selects(policy.spec.podSelector.matchLabels, podLabels(w))).toBe(true);
  // Every ingress rule names its ports: nothing else of the pod is reachable.
  const ingressPorts = policy.spec.ingress.flatMap((r: { ports?: { port: unknown }[] }) => {
    expect(r.ports?.length).toBeGreaterThan(0);
    return (r.ports ?? []).map((p) => p.port);
  });
  expect(ingressPorts.sort()).toEqual(['http', 'metrics']);
  const egress = (port: number, protocol = 'TCP') =>
    policy.spec.egress.some((r: { ports?: { port: number; protocol: string }[] }) =>
      r.ports?.some((p) => p.port === port && p.protocol === protocol),
    );
  expect(egress(53, 'UDP')).toBe(true);
  expect(egress(53, 'TCP')).toBe(true);
  expect(egress(443)).toBe(true);
  // DNS goes to the cluster's DNS pods only (and kustomize must not have added our labels there).
  const dns = policy.spec.egress.find((r: { ports?: { port: number }[] }) => r.ports?.some((p) => p.port === 53));
  expect(dns.to[0].podSelector.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
  expect(egress(5432)).toBe(mode === 'scale-out');
  expect(egress(6379)).toBe(mode === 'scale-out');
}

/**
 * single mode: one pod of a StatefulSet, SQLite in DATA_DIR on its volume claim, and nothing that
 * would start a second process on the same file. Returns the StatefulSet.
 */
export function expectSingleServer(objects: K8sObject[]): K8sObject {
  const w = server(objects);
  expect(w.kind).toBe('StatefulSet');
  expect(w.spec.replicas).toBe(1);
  const [c] = w.spec.template.spec.containers;
  const data = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === settings(objects, c).DATA_DIR);
  expect(w.spec.volumeClaimTemplates.map((t: K8sObject) => t.metadata.name)).toEqual([data.name]);
  expect(c.env.map((e: { name: string }) => e.name)).not.toContain('DATABASE_URL');
  for (const kind of ['HorizontalPodAutoscaler', 'Deployment', 'Job', 'PodDisruptionBudget']) {
    expect(byKind(objects, kind), kind).toEqual([]);
  }
  return w;
}

/**
 * scale-out mode: a Deployment on PostgreSQL and Redis (their URLs from the Secret), rolled one
 * extra pod at a time, autoscaled on CPU, spread over hosts and zones, disruption-budgeted.
 * Returns the Deployment.
 */
export function expectScaleOutServer(objects: K8sObject[]): K8sObject {
  const w = server(objects);
  expect(w.kind).toBe('Deployment');
  // The HorizontalPodAutoscaler owns the replica count.
  expect(w.spec.replicas).toBeUndefined();
  expect(w.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  const [c] = w.spec.template.spec.containers;
  for (const name of ['DATABASE_URL', 'REDIS_URL']) {
    expect(c.env.find((e: { name: string }) => e.name === name)?.valueFrom?.secretKeyRef?.name, name).toBe('llm-proxy');
  }
  const hpa = one(objects, 'HorizontalPodAutoscaler', 'llm-proxy');
  expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: w.metadata.name });
  expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
  expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  const pdb = one(objects, 'PodDisruptionBudget', 'llm-proxy');
  expect(selects(pdb.spec.selector.matchLabels, podLabels(w))).toBe(true);
  const spread = w.spec.template.spec.topologySpreadConstraints as K8sObject[];
  expect(spread.map((s) => s.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  for (const s of spread) expect(selects(s.labelSelector.matchLabels, podLabels(w))).toBe(true);
  return w;
}
