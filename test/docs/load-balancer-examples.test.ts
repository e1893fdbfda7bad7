import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { unavailable } from '../helpers/services.js';

/**
 * docs/scaling.md's load-balancer examples are meant to be copied: nginx must accept the nginx one
 * as it is, and the Kubernetes manifests must hang together (the Service selects the pods, the
 * probes reach the container, the grace period covers the drain).
 */
const NGINX = '/usr/sbin/nginx';

/** The fenced blocks of `lang` in the doc's section headed `heading`. */
function blocks(file: string, heading: string, lang: string): string[] {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${file}: no section "${heading}"`);
  const next = text.indexOf('\n## ', start + heading.length + 2);
  const section = text.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] as string);
}

const [nginxExample] = blocks('docs/scaling.md', '## Load balancer', 'nginx');
const [kubeExample] = blocks('docs/scaling.md', '## Load balancer', 'yaml');

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-lb-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `nginx -t` of the example inside a minimal main context, with every file nginx writes in `dir`. */
function nginxTest(httpBlock: string): { status: number | null; output: string } {
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${user}events {}\nhttp {\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n${httpBlock}\n}\n`,
  );
  const res = spawnSync(
    NGINX,
    ['-t', '-p', dir, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', `pid ${path.join(dir, 'nginx.pid')};`],
    { encoding: 'utf8' },
  );
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('docs/scaling.md, load balancer examples', () => {
  const nginx = existsSync(NGINX) || unavailable(`no nginx at ${NGINX}: skipping the nginx example's check`);

  it.skipIf(!nginx)('nginx accepts the example configuration (nginx -t)', () => {
    expect(nginxExample).toBeDefined();
    const ok = nginxTest(nginxExample as string);
    expect(ok.output).toContain('test is successful');
    expect(ok.status).toBe(0);
    // The check can fail: a misspelt directive is refused.
    const bad = nginxTest((nginxExample as string).replace('proxy_buffering off;', 'proxy_bufering off;'));
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/unknown directive "proxy_bufering"/);
  });

  it('the Kubernetes manifests parse and fit together', () => {
    expect(kubeExample).toBeDefined();
    const docs = parseAllDocuments(kubeExample as string);
    for (const d of docs) expect(d.errors).toEqual([]);
    const objects = docs.map((d) => d.toJS() as any);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const service = objects.find((o) => o.kind === 'Service');
    expect(deployment?.apiVersion).toBe('apps/v1');
    expect(service?.apiVersion).toBe('v1');

    const pod = deployment.spec.template;
    const labels = pod.metadata.labels as Record<string, string>;
    // The Deployment's selector and the Service's select the pod template's labels.
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(labels).toMatchObject(service.spec.selector);

    const [container] = pod.spec.containers;
    const ports = container.ports as Array<{ name?: string; containerPort: number }>;
    const port = (ref: string | number) => ports.find((p) => p.name === ref || p.containerPort === ref);
    // llm-proxy listens on 8080 by default (LISTEN_ADDR :8080).
    expect(port(service.spec.ports[0].targetPort)?.containerPort).toBe(8080);
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(port(container.readinessProbe.httpGet.port)).toBeDefined();
    expect(container.livenessProbe.httpGet.path).toBe('/live');
    expect(port(container.livenessProbe.httpGet.port)).toBeDefined();

    // Every secret the instances must share comes from the Secret, not from a pod's DATA_DIR.
    const env = new Map(
      (container.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e]),
    );
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ENCRYPTION_KEY', 'MANAGEMENT_TOKEN']) {
      expect(env.get(name)?.valueFrom, name).toBeDefined();
    }
    // The grace period covers the preStop sleep and the drain, or a long stream is killed.
    const sleep = container.lifecycle.preStop.sleep.seconds as number;
    const drain = Number(env.get('SHUTDOWN_TIMEOUT_MS')?.value) / 1000;
    expect(drain).toBeGreaterThan(0);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(sleep + drain);
    // DATA_DIR is a volume of the pod (the crash journal survives a container restart).
    const dataDir = env.get('DATA_DIR')?.value;
    expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain(dataDir);
  });
});
