import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SETTING_DOCS } from '../../src/config/settings-docs.js';
import { unavailable } from '../helpers/services.js';
import { composeErrors, type Doc, interpolated, nginxDirectives, readCompose, seconds } from './compose-files.js';

/**
 * deploy/compose: both files are valid Compose files, run llm-proxy locked down (non-root, read-only
 * root, no capabilities) with its secrets only from .env, and the scale-out topology's parts agree
 * with each other: nginx balances the instances with docs/scaling.md's settings, Prometheus scrapes
 * them and loads the shipped alert rules, Grafana gets the dashboard, the instances send OTLP/HTTP to
 * the collector.
 */
const ROOT = process.cwd();
const SINGLE = 'deploy/compose/single';
const SCALE_OUT = 'deploy/compose/scale-out';
const NGINX = '/usr/sbin/nginx';
const SECRET_SETTINGS = ['MANAGEMENT_TOKEN', 'ENCRYPTION_KEY', 'DATABASE_URL', 'REDIS_URL'];
const known = new Set([...Object.keys(SETTING_DOCS), 'CONFIG_FILE']);

const files = { single: `${SINGLE}/compose.yaml`, 'scale-out': `${SCALE_OUT}/compose.yaml` };
const docs = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readCompose(f)])) as Record<
  keyof typeof files,
  Doc
>;

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The services that run the llm-proxy image, by name. */
const proxyServices = (doc: Doc): [string, Doc][] =>
  Object.entries(doc.services as Record<string, Doc>).filter(([, s]) => s.image === 'llm-proxy:latest');
/** The instances: llm-proxy services that serve (the migrate service runs a command). */
const instances = (doc: Doc) => proxyServices(doc).filter(([, s]) => s.command === undefined);
const port = (addr: string) => Number(addr.slice(addr.lastIndexOf(':') + 1));

describe.each(Object.keys(files) as (keyof typeof files)[])('deploy/compose/%s', (name) => {
  const file = files[name];
  const doc = docs[name];
  const folder = path.dirname(file);

  it('is valid against the Compose Specification schema', () => {
    expect(composeErrors(doc)).toEqual([]);
  });

  it('builds llm-proxy:latest from the repository’s Dockerfile and runs it locked down', () => {
    const services = proxyServices(doc);
    expect(services.length).toBeGreaterThan(0);
    for (const [svc, s] of services) {
      expect(path.resolve(folder, s.build.context), svc).toBe(ROOT);
      expect(existsSync(path.join(ROOT, s.build.dockerfile)), svc).toBe(true);
      expect(s.user, svc).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(s.read_only, svc).toBe(true);
      expect(s.cap_drop, svc).toEqual(['ALL']);
      expect(s.security_opt, svc).toContain('no-new-privileges:true');
      expect(
        s.tmpfs.some((t: string) => t.split(':')[0] === '/tmp'),
        svc,
      ).toBe(true);
      expect(
        Object.keys(s.environment).filter((k) => !known.has(k)),
        `${svc}: unknown settings`,
      ).toEqual([]);
    }
  });

  it('gives each instance its own DATA_DIR volume, a /live healthcheck and a stop grace over SHUTDOWN_TIMEOUT_MS', () => {
    const volumes = new Set<string>();
    for (const [svc, s] of instances(doc)) {
      const env = s.environment as Record<string, string>;
      const data = (s.volumes as string[]).map((v) => v.split(':')).find(([, target]) => target === env.DATA_DIR);
      expect(data, `${svc}: a volume at DATA_DIR`).toBeDefined();
      const volume = (data as string[])[0] as string;
      expect(Object.keys(doc.volumes)).toContain(volume);
      expect(volumes.has(volume), `${svc} shares ${volume}`).toBe(false);
      volumes.add(volume);
      const probe = s.healthcheck.test.join(' ');
      expect(probe).toContain(`http://127.0.0.1:${port(env.LISTEN_ADDR as string)}/live`);
      const drain = (Number(env.SHUTDOWN_DELAY_MS ?? 0) + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000;
      expect(drain).toBeGreaterThan(0);
      expect(seconds(s.stop_grace_period)).toBeGreaterThan(drain);
    }
    expect(volumes.size).toBe(name === 'single' ? 1 : 2);
  });

  it('takes every secret from .env, whose example has only placeholders', () => {
    const text = readFileSync(file, 'utf8');
    for (const [svc, s] of proxyServices(doc)) {
      for (const key of SECRET_SETTINGS) {
        const value = s.environment[key] as string | undefined;
        if (value === undefined) continue;
        // A required variable (${NAME:?…}), never a value written here.
        expect(value, `${svc} ${key}`).toMatch(/\$\{[A-Z_]+:\?[^}]+\}/);
      }
      expect(s.environment.MANAGEMENT_TOKEN, svc).toBeDefined();
      expect(s.environment.REQUIRE_ENCRYPTION_KEY, svc).toBe('true');
    }
    // Every variable the file uses is in .env.example, with no value.
    const example = readFileSync(path.join(folder, '.env.example'), 'utf8');
    const assignments = example.split('\n').filter((l) => /^[A-Z_]+=/.test(l));
    expect(assignments.map((l) => l.replace(/=.*/, '')).sort()).toEqual(interpolated(text));
    for (const l of assignments) expect(l, 'a placeholder only').toMatch(/^[A-Z_]+=$/);
  });

  it('mounts only files that exist', () => {
    for (const [svc, s] of Object.entries(doc.services as Record<string, Doc>)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const source = v.split(':')[0] as string;
        if (source.startsWith('.')) expect(existsSync(path.resolve(folder, source)), `${svc}: ${source}`).toBe(true);
      }
    }
  });
});

describe('deploy/compose/scale-out, its parts together', () => {
  const doc = docs['scale-out'];
  const services = doc.services as Record<string, Doc>;
  const conf = readFileSync(`${SCALE_OUT}/nginx.conf`, 'utf8');

  it('runs two or more instances on PostgreSQL and Redis, migrated first', () => {
    const list = instances(doc);
    expect(list.length).toBeGreaterThanOrEqual(2);
    for (const [svc, s] of list) {
      expect(s.environment.DATABASE_URL, svc).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(s.environment.REDIS_URL, svc).toMatch(/@redis:6379$/);
      expect(s.depends_on.migrate.condition).toBe('service_completed_successfully');
    }
    const migrate = services.migrate as Doc;
    expect(migrate.command).toEqual(['migrate']);
    expect(migrate.environment.DATABASE_URL).toBe(services['proxy-1']?.environment.DATABASE_URL);
    expect(migrate.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('nginx balances every instance, with the settings of docs/scaling.md', () => {
    const upstream = /upstream llm_proxy \{([\s\S]*?)\}/.exec(conf)?.[1] ?? '';
    const servers = [...upstream.matchAll(/^\s*server ([^\s;]+)/gm)].map((m) => m[1]);
    expect(servers).toEqual(instances(doc).map(([svc, s]) => `${svc}:${port(s.environment.LISTEN_ADDR)}`));
    // The rest is docs/scaling.md's example, directive for directive.
    const text = readFileSync('docs/scaling.md', 'utf8');
    const section = text.slice(text.indexOf('\n## Load balancer\n'));
    const example = /```nginx\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    // Server lines differ in their addresses and number only: the same parameters on each.
    const withoutServers = (c: string) =>
      nginxDirectives(c)
        .map((l) => l.replace(/^server \S+:\d+/, 'server ADDRESS'))
        .filter((l, i, all) => !(l.startsWith('server ADDRESS') && all[i - 1] === l));
    expect(withoutServers(conf)).toEqual(withoutServers(example));
    // The instances believe nginx's X-Forwarded-For: TRUST_PROXY is nginx's fixed address.
    const nginxAddress = services.nginx?.networks.backend.ipv4_address;
    for (const [, s] of instances(doc)) expect(s.environment.TRUST_PROXY).toBe(nginxAddress);
    // nginx closes an idle connection before a draining instance would (docs/scaling.md).
    const keepalive = seconds(/keepalive_timeout (\S+);/.exec(conf)?.[1] ?? '');
    expect(keepalive).toBeGreaterThan(0);
    for (const [, s] of instances(doc)) {
      expect(Number(s.environment.SHUTDOWN_IDLE_TIMEOUT_MS) / 1000).toBeGreaterThan(keepalive);
    }
    expect(services.nginx?.volumes).toContain('./nginx.conf:/etc/nginx/conf.d/default.conf:ro');
  });

  it.skipIf(!(existsSync(NGINX) || unavailable(`no nginx at ${NGINX}: skipping nginx -t`)))(
    'nginx accepts nginx.conf (nginx -t, the instances’ names resolved to 127.0.0.1)',
    () => {
      const test = (body: string) => {
        const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
        const main = path.join(dir, 'nginx.conf');
        writeFileSync(
          main,
          `${user}events {}\nhttp {\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n${body}\n}\n`,
        );
        const res = spawnSync(
          NGINX,
          ['-t', '-p', dir, '-c', main, '-e', path.join(dir, 'error.log'), '-g', `pid ${path.join(dir, 'nginx.pid')};`],
          { encoding: 'utf8' },
        );
        return { status: res.status, output: `${res.stdout}${res.stderr}` };
      };
      const local = conf.replace(/server proxy-\d+:/g, 'server 127.0.0.1:');
      const ok = test(local);
      expect(ok.output).toContain('test is successful');
      expect(ok.status).toBe(0);
      // The check can fail: an instance name nginx cannot resolve is refused.
      const bad = test(conf.replace('server proxy-1:', 'server proxy-1.invalid:'));
      expect(bad.status).not.toBe(0);
      expect(bad.output).toMatch(/host not found in upstream "proxy-1\.invalid:8080"/);
    },
  );

  it('Prometheus scrapes every instance’s metrics port and the collector, and loads alerts.yml', () => {
    const prometheus = services.prometheus as Doc;
    const config = parse(readFileSync(`${SCALE_OUT}/prometheus.yml`, 'utf8'));
    const job = (name: string) =>
      config.scrape_configs.find((j: Doc) => j.job_name === name).static_configs.flatMap((c: Doc) => c.targets);
    expect(job('llm-proxy')).toEqual(
      instances(doc).map(([svc, s]) => `${svc}:${port(s.environment.METRICS_LISTEN_ADDR)}`),
    );
    // The rule file named in the config is where compose mounts deploy/prometheus/alerts.yml.
    const mounts = new Map((prometheus.volumes as string[]).map((v) => [v.split(':')[1], v.split(':')[0]]));
    const configPath = [...mounts].find(([, source]) => source === './prometheus.yml')?.[0] as string;
    const rules = path.posix.join(path.posix.dirname(configPath), config.rule_files[0]);
    expect(mounts.get(rules)).toBe('../../prometheus/alerts.yml');
    // The collector's Prometheus exporter, as collector.yaml serves it.
    const collector = parse(readFileSync('deploy/otel/collector.yaml', 'utf8'));
    expect(job('otel-collector')).toEqual([`otel-collector:${port(collector.exporters.prometheus.endpoint)}`]);
  });

  it('the instances send OTLP/HTTP to the collector, which receives it and has a pipeline for traces and metrics', () => {
    const collector = parse(readFileSync('deploy/otel/collector.yaml', 'utf8'));
    const otel = services['otel-collector'] as Doc;
    const mount = (otel.volumes as string[]).find((v) => v.startsWith('../../otel/collector.yaml:')) as string;
    expect(otel.command).toContain(`--config=${mount.split(':')[1]}`);
    const receiver = collector.receivers.otlp.protocols.http.endpoint as string;
    for (const [, s] of instances(doc)) {
      expect(s.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://otel-collector:${port(receiver)}`);
    }
    for (const kind of ['traces', 'metrics']) {
      const pipeline = collector.service.pipelines[kind];
      expect(pipeline.receivers).toEqual(['otlp']);
      for (const e of pipeline.exporters) expect(Object.keys(collector.exporters)).toContain(e);
      for (const p of pipeline.processors) expect(Object.keys(collector.processors)).toContain(p);
    }
  });

  it('Grafana gets the Prometheus data source and the dashboard provisioned', () => {
    const grafana = services.grafana as Doc;
    const mounts = new Map((grafana.volumes as string[]).map((v) => [v.split(':')[0], v.split(':')[1]]));
    expect(mounts.get('../../grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const datasources = parse(readFileSync('deploy/grafana/provisioning/datasources/prometheus.yaml', 'utf8'));
    const [ds] = datasources.datasources;
    expect(ds).toMatchObject({ type: 'prometheus', isDefault: true });
    // The container's port: the last of host address, host port and container port.
    expect(ds.url).toBe(`http://prometheus:${port(String(services.prometheus?.ports[0]))}`);
    const providers = parse(readFileSync('deploy/grafana/provisioning/dashboards/llm-proxy.yaml', 'utf8'));
    const dashboardMount = mounts.get('../../grafana/llm-proxy.json') as string;
    expect(path.posix.dirname(dashboardMount)).toBe(providers.providers[0].options.path);
    // The dashboard asks for a Prometheus data source, which the provisioned default is.
    const dashboard = JSON.parse(readFileSync('deploy/grafana/llm-proxy.json', 'utf8'));
    expect(dashboard.templating.list.find((v: Doc) => v.type === 'datasource').query).toBe(ds.type);
  });

  it('the schema check refuses a broken file', () => {
    const broken = structuredClone(doc);
    broken.services['proxy-1'].healthchek = broken.services['proxy-1'].healthcheck;
    broken.services['proxy-2'].ports = 8080;
    const errors = composeErrors(broken).join('\n');
    expect(errors).toMatch(/\/services\/proxy-1 must NOT have additional properties .*healthchek/);
    expect(errors).toMatch(/\/services\/proxy-2\/ports must be array/);
  });
});
