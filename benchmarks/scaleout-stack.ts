import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Child,
  childPids,
  freePort,
  jsonCall,
  NGINX_BIN,
  spawnChild,
  startProxyChild,
  UPSTREAM_KEY,
} from './harness-stack.js';

/** Settings every instance shares: one database, one Redis, the same secrets. */
export interface SharedSettings {
  databaseUrl: string;
  redisUrl: string;
  /** The same on every instance: any of them answers the management API. */
  managementToken: string;
  /** The same on every instance: a project's upstream key written by one is read by all. */
  encryptionKey: string;
}

export function sharedSecrets(): Pick<SharedSettings, 'managementToken' | 'encryptionKey'> {
  return { managementToken: randomBytes(24).toString('hex'), encryptionKey: randomBytes(32).toString('base64') };
}

/** A proxy process the benchmark started: its pid, and the pids of its processes (a WORKERS primary's workers). */
export interface Instance {
  name: string;
  url: string;
  child: Child;
  /** The primary and its worker processes (direct children); one pid for a single process. */
  pids(): number[];
}

/**
 * Starts `llm-proxy serve` on its own DATA_DIR (its journal and log) on the shared database and,
 * unless `redis` is false, the shared Redis. The reply deadline on Redis is raised from 250 ms so
 * that a stall of this loaded 2-core machine is not counted as a Redis failure (which refuses in
 * the default `closed` mode and stops the run); it changes nothing while Redis answers.
 */
export async function startInstance(
  cli: string,
  dir: string,
  name: string,
  upstream: string,
  shared: SharedSettings,
  opts: { redis?: boolean; workers?: number } = {},
): Promise<Instance> {
  const data = path.join(dir, name);
  const env: Record<string, string> = {
    DATABASE_URL: shared.databaseUrl,
    MANAGEMENT_TOKEN: shared.managementToken,
    ENCRYPTION_KEY: shared.encryptionKey,
    LOG_LEVEL: 'info',
    REDIS_COMMAND_TIMEOUT_MS: '2000',
    ...(opts.redis === false ? {} : { REDIS_URL: shared.redisUrl }),
    ...(opts.workers ? { WORKERS: String(opts.workers) } : {}),
  };
  const { child, url } = await startProxyChild(cli, data, upstream, env);
  return { name, url, child, pids: () => [child.pid, ...childPids(child.pid)] };
}

/**
 * Limits on the token and its project that never refuse, so that every request is admitted and
 * settled through the limiter. Only limits an instance without Redis keeps in its memory: on
 * PostgreSQL without Redis, `max_requests` and lifetime budgets are counted in the database, and
 * the in-memory comparison would measure that instead.
 */
export const GENEROUS_LIMITS = {
  token: {
    requests_per_minute: 1_000_000_000,
    max_concurrent: 1_000_000,
    budget_usd: 1_000_000,
    budget_period: 'month',
  },
  project: { requests_per_minute: 1_000_000_000, budget_usd: 1_000_000, budget_period: 'month' },
} as const;

/** A project holding the mock's key and a token, both limited (GENEROUS_LIMITS), through `instance`'s API. */
export async function limitedToken(instance: Instance, shared: SharedSettings, name: string): Promise<string> {
  const project = await jsonCall<{ id: string }>('POST', `${instance.url}/manage/projects`, shared.managementToken, {
    name,
    api_key: UPSTREAM_KEY,
    ...GENEROUS_LIMITS.project,
  });
  if (project.status !== 201) throw new Error(`creating a project: ${project.status} ${JSON.stringify(project.body)}`);
  const token = await jsonCall<{ token: string }>('POST', `${instance.url}/manage/tokens`, shared.managementToken, {
    project_id: project.body.id,
    name,
    ...GENEROUS_LIMITS.token,
  });
  if (token.status !== 201) throw new Error(`creating a token: ${token.status} ${JSON.stringify(token.body)}`);
  return token.body.token;
}

/**
 * nginx in front of `servers`: round robin over an upstream block with idle keep-alive connections
 * to the instances, one worker, no buffering (what docs/scaling.md's example recommends).
 */
export function balancerConfig(dir: string, listenPort: number, servers: URL[]): string {
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes 1;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${path.join(dir, 'client_body')};
  proxy_temp_path ${path.join(dir, 'proxy')};
  fastcgi_temp_path ${path.join(dir, 'fastcgi')};
  uwsgi_temp_path ${path.join(dir, 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'scgi')};
  upstream llm_proxy {
${servers.map((s) => `    server ${s.host};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://llm_proxy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 900s;
    }
  }
}
`;
}

/** nginx balancing over `instances`, with its config and temp files in `dir/name`. */
export async function startBalancer(
  dir: string,
  name: string,
  instances: Instance[],
): Promise<{ child: Child; url: string }> {
  const home = path.join(dir, name);
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  const conf = path.join(home, 'nginx.conf');
  writeFileSync(
    conf,
    balancerConfig(
      home,
      port,
      instances.map((i) => new URL(i.url)),
    ),
  );
  const child = spawnChild(
    `nginx ${name}`,
    NGINX_BIN,
    [
      '-p',
      home,
      '-c',
      conf,
      '-e',
      path.join(home, 'error.log'),
      '-g',
      `daemon off; pid ${path.join(home, 'nginx.pid')};`,
    ],
    {},
  );
  return { child, url: `http://127.0.0.1:${port}` };
}
