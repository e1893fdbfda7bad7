import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { BenchReport } from '../src/bench/result.js';

/** A process the harness started and must stop. */
export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** stdout + stderr so far (last 64 KiB). */
  output(): string;
  stop(): Promise<void>;
}

export function spawnChild(name: string, command: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString('utf8');
    if (out.length > 65_536) out = out.slice(-65_536);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  return {
    name,
    proc,
    pid: proc.pid,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timeout = sleep(5000).then(() => 'timeout');
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * How long a child may take to start before it counts as hung. Only a hang reaches it: a start
 * beside a busy test suite or CPU burners has taken 15 s where a quiet machine takes one.
 */
const START_TIMEOUT_MS = 180_000;

/**
 * A start that failed: the child is stopped (whoever called does not hold it yet, and a child left
 * running keeps the benchmark's process alive) and the error names it with its output.
 */
async function startFailed(child: Child, why: string): Promise<never> {
  await child.stop();
  throw new Error(`${child.name} ${why}:\n${child.output()}`);
}

/** Resolves with the first match of `pattern` in the child's output; stops the child if none comes. */
export async function waitForOutput(
  child: Child,
  pattern: RegExp,
  timeoutMs = START_TIMEOUT_MS,
): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(child.output());
    if (m) return m;
    if (child.proc.exitCode !== null) return startFailed(child, 'exited early');
    if (Date.now() > until) return startFailed(child, 'did not start in time');
    await sleep(50);
  }
}

/** Polls until GET url answers 200; stops the child if it never does. */
export async function waitForHttp(
  child: Child,
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = START_TIMEOUT_MS,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(url, { headers });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {}
    if (child.proc.exitCode !== null) return startFailed(child, 'exited early');
    if (Date.now() > until) return startFailed(child, `did not answer ${url} in time`);
    await sleep(100);
  }
}

export async function jsonCall<T>(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await request(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as T };
}

/** Resident set size of a process, KiB (Linux /proc), or null. */
export function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU time of a process, ms (Linux /proc), or null. */
export function cpuMs(pid: number): number | null {
  const f = statFields(pid);
  if (!f) return null;
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks();
}

/** CPU time all processes on the machine used so far, ms (Linux /proc/stat), or null. */
export function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal …
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return (busy * 1000) / clockTicks();
  } catch {
    return null;
  }
}

/** Direct children of a process (nginx workers of the master). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(Number(e));
    if (f && Number(f[1]) === pid) out.push(Number(e));
  }
  return out;
}

/** CPU of a process and its direct children, ms. */
export function treeCpuMs(pid: number): number | null {
  const own = cpuMs(pid);
  if (own === null) return null;
  return childPids(pid).reduce((sum, p) => sum + (cpuMs(p) ?? 0), own);
}

export const NGINX_BIN = '/usr/sbin/nginx';

/** nginx as a plain reverse proxy: one worker, keep-alive upstream, no buffering, access log buffered to a file. */
export function nginxConfig(dir: string, listenPort: number, upstream: URL, workerConnections = 8192): string {
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes 1;
worker_rlimit_nofile ${workerConnections * 2};
events { worker_connections ${workerConnections}; }
http {
  access_log ${path.join(dir, 'access.log')} combined buffer=64k flush=1s;
  client_body_temp_path ${path.join(dir, 'client_body')};
  proxy_temp_path ${path.join(dir, 'proxy')};
  fastcgi_temp_path ${path.join(dir, 'fastcgi')};
  uwsgi_temp_path ${path.join(dir, 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'scgi')};
  client_max_body_size 64m;
  upstream llm_upstream {
    server ${upstream.host};
    keepalive 1024;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://llm_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`;
}

export function nginxVersion(): string | null {
  if (!existsSync(NGINX_BIN)) return null;
  // nginx prints its version on stderr.
  const res = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' });
  return `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().replace(/^nginx version: /, '') || null;
}

export async function startNginx(
  dir: string,
  upstream: URL,
  env: Record<string, string>,
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, upstream));
  const child = spawnChild(
    'nginx',
    NGINX_BIN,
    ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`],
    env,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

/** The mock upstream as a child process (CLI entry `cli`), and its URL. */
export async function startMockChild(cli: string, apiKey: string): Promise<{ child: Child; url: string }> {
  const child = spawnChild(
    'mock upstream',
    process.execPath,
    ['--title=llm-proxy-bench-mock', cli, 'mock-upstream', '--port', '0', '--api-key', apiKey],
    {},
  );
  const url = (await waitForOutput(child, /listening on (http:\/\/\S+)/))[1] as string;
  return { child, url };
}

/** A proxy as a child process on a free port with its data (and log) in `dataDir`, once ready. */
export async function startProxyChild(
  cli: string,
  dataDir: string,
  upstream: string,
  extraEnv: Record<string, string> = {},
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const env = {
    DATA_DIR: dataDir,
    LISTEN_ADDR: `127.0.0.1:${port}`,
    OPENAI_API_URL: upstream,
    LOG_FILE: path.join(dataDir, 'proxy.log'),
    // One token drives the whole load: let it use every connection (the default share is half).
    UPSTREAM_SHARE_PERCENT: '100',
    ...extraEnv,
  };
  const child = spawnChild(
    `proxy ${path.basename(dataDir)}`,
    process.execPath,
    ['--title=llm-proxy-bench-proxy', cli, 'serve'],
    env,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${url}/ready`);
  return { child, url };
}

const BARE = fileURLToPath(new URL('./floor-proxy.js', import.meta.url));

/** Starts the bare Node proxy (benchmarks/floor-proxy.ts: HTTP and WebSocket) in front of `upstream`; resolves its URL. */
export async function startBareProxy(upstream: string): Promise<{ child: Child; url: string }> {
  const child = spawnChild('bare proxy', process.execPath, [BARE, '--upstream', upstream, '--key', UPSTREAM_KEY], {});
  try {
    return { child, url: (await waitForOutput(child, /listening on (http:\/\/\S+)/))[1] as string };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Creates a project for `upstreamKey` and a token through the management API; returns the token. */
export async function issueBenchToken(
  proxyUrl: string,
  dataDir: string,
  upstreamKey: string,
): Promise<{ projectId: string; token: string }> {
  const mt = readFileSync(path.join(dataDir, 'management-token'), 'utf8').trim();
  const project = await jsonCall<{ id: string }>('POST', `${proxyUrl}/manage/projects`, mt, {
    name: 'bench',
    api_key: upstreamKey,
  });
  if (project.status !== 201) throw new Error(`creating a project: ${project.status} ${JSON.stringify(project.body)}`);
  const token = await jsonCall<{ token: string }>('POST', `${proxyUrl}/manage/tokens`, mt, {
    project_id: project.body.id,
    name: 'bench',
  });
  if (token.status !== 201) throw new Error(`creating a token: ${token.status} ${JSON.stringify(token.body)}`);
  return { projectId: project.body.id, token: token.body.token };
}

/**
 * The repository root: the nearest folder above this file with a package.json. This file runs from
 * dist-bench/benchmarks/ and, in tests, from benchmarks/, at different depths.
 */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The built entry points the runs start (`npm run build`). */
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
export const BENCH = path.join(ROOT, 'dist', 'cli', 'bench-main.js');

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}
/** The key the mock upstream requires in the benchmark runs (not a real key). */
export const UPSTREAM_KEY = 'sk-bench-upstream-key-0123456789';

export const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

/** A load the harnesses run: its name in reports, a title, and the load generator's arguments. */
export interface Scenario {
  name: string;
  title: string;
  args: string[];
}

/** How the mock paces the streamed scenarios: 16 chunks, 1 ms apart (`x-mock-*` request headers). */
export const STREAM_PACING: Readonly<Record<string, string>> = { 'x-mock-chunks': '16', 'x-mock-chunk-delay-ms': '1' };

/** Headers as the load generator's `-H "Name: value"` arguments. */
export const headerArgs = (headers: Readonly<Record<string, string>>): string[] =>
  Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);

/** The harness's request kinds (`npm run bench` runs each at several concurrencies). */
export const SCENARIOS: Scenario[] = [
  { name: 'chat', title: 'chat completions, non-streamed', args: ['-e', 'chat'] },
  {
    name: 'chat-stream',
    title: 'chat completions, streamed (16 chunks, 1 ms apart)',
    args: ['-e', 'chat', '--stream', ...headerArgs(STREAM_PACING)],
  },
  { name: 'embeddings', title: 'embeddings (one input, 1536 dimensions)', args: ['-e', 'embeddings'] },
];

/** Runs the load generator in its own process; returns its JSON report and the CPU it used. */
export function runBenchProcess(args: string[]): Promise<{ report: BenchReport; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--title=llm-proxy-bench-load', BENCH, ...args, '--json', '-', '--quiet'], {
      // A clean environment: no host setting leaks into a measurement.
      env: {},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let cpu = 0;
    // /proc/<pid> is gone once it exits: sample while it runs.
    const sampler = setInterval(() => {
      cpu = (child.pid !== undefined ? cpuMs(child.pid) : null) ?? cpu;
    }, 100);
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`bench exited ${code}: ${err.trim()}`));
      try {
        resolve({ report: JSON.parse(out) as BenchReport, cpuMs: cpu });
      } catch (e) {
        reject(new Error(`bench printed no JSON report: ${(e as Error).message}\n${err}`));
      }
    });
  });
}

/** Writes a run's report as `<name>.md` and `<name>.json` in `dir`, and prints the markdown. */
export function writeReport(dir: string, name: string, md: string, data: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.md`), md);
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  process.stdout.write(md);
}
