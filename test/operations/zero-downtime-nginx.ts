import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventually } from '../helpers/scaleout.js';
import { freePort } from '../scaleout/redis-server.js';

/**
 * nginx in front of the zero-downtime test's instances, configured with docs/scaling.md's example
 * as a user copies it: only the instances' addresses and the listening port are replaced, so the
 * test proves the documented settings, and fails when they stop working.
 */

export const NGINX = '/usr/sbin/nginx';

/** The `nginx` block of docs/scaling.md's "Load balancer" section. */
export function documentedNginxConfig(): string {
  const text = readFileSync('docs/scaling.md', 'utf8');
  const start = text.indexOf('\n## Load balancer\n');
  if (start < 0) throw new Error('docs/scaling.md: no "## Load balancer" section');
  const end = text.indexOf('\n## ', start + 1);
  const block = /```nginx\n([\s\S]*?)```/.exec(text.slice(start, end < 0 ? undefined : end))?.[1];
  if (!block) throw new Error('docs/scaling.md: no nginx example in "## Load balancer"');
  return block;
}

/**
 * The documented example with its `server` lines replaced by `instances` (each keeps the
 * parameters the example gives its servers) and `listen` by 127.0.0.1:`port`.
 */
export function exampleFor(instances: string[], port: number): string {
  const example = documentedNginxConfig();
  const servers = [...example.matchAll(/^(\s*)server \d+\.\d+\.\d+\.\d+:\d+(.*);$/gm)];
  const first = servers[0];
  if (!first) throw new Error('the nginx example names no upstream server');
  const [line, indent, params] = first;
  const replaced = instances.map((host) => `${indent}server ${host}${params};`).join('\n');
  let out = example.replace(line, replaced);
  for (const other of servers.slice(1)) out = out.replace(`${other[0]}\n`, '');
  if (!/^\s*listen 80;$/m.test(out)) throw new Error('the nginx example does not `listen 80;`');
  return out.replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`);
}

export interface Balancer {
  url: string;
  /** The access log: one line per request, `status|upstream_addr|upstream_status`. */
  accessLog(): string[];
  /** nginx's error log. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** Resolves once something accepts connections on `port`. */
async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** nginx (one worker, in the foreground) with the documented example over `instances`, in `dir`. */
export async function startBalancer(dir: string, instances: string[]): Promise<Balancer> {
  const port = await freePort();
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  const access = path.join(dir, 'access.log');
  const errors = path.join(dir, 'error.log');
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${user}worker_processes 1;
events { worker_connections 1024; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  log_format lb '$status|$upstream_addr|$upstream_status';
  access_log ${access} lb;
${exampleFor(instances, port)}
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', conf, '-e', errors, '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c) => (stderr += c));
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true;
      resolve();
    }),
  );
  await eventually(`nginx listening on ${port}`, async () => {
    if (exited) throw new Error(`nginx exited: ${stderr}${existsSync(errors) ? readFileSync(errors, 'utf8') : ''}`);
    return listening(port);
  });
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return {
    url: `http://127.0.0.1:${port}`,
    accessLog: () => read(access).split('\n').filter(Boolean),
    errorLog: () => read(errors),
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await gone;
    },
  };
}
