import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  type Child,
  CLI,
  issueBenchToken,
  log,
  NGINX_BIN,
  runBenchProcess,
  startBareProxy,
  startMockChild,
  startNginx,
  startProxyChild,
  UPSTREAM_KEY,
} from './harness-stack.js';

/** What `npm run bench:floor` measures, in the order of a round. */
export type TargetKey = 'direct' | 'bare' | 'proxy' | 'nginx' | 'before';

export interface Target {
  key: TargetKey;
  title: string;
  url: string;
  /** Sent as `Authorization: Bearer …`: the mock's key for direct and nginx, a proxy token for a proxy. */
  token: string;
  /** The Node.js server process whose CPU time is read around each run; null for the mock and nginx. */
  pid: number | null;
}

/**
 * Starts the mock upstream and, in front of it, the bare Node proxy, llm-proxy (full pipeline),
 * nginx when installed, and `before` (llm-proxy from another build's CLI) when given. `children`
 * receives each process as soon as it starts, so the caller stops them even when a later start fails.
 */
export async function startTargets(
  dir: string,
  before: string | null,
  children: Child[],
  beforeEnv: Record<string, string> = {},
  beforeTitle = 'before',
): Promise<Target[]> {
  const mock = await startMockChild(CLI, UPSTREAM_KEY);
  children.push(mock.child);
  const targets: Target[] = [{ key: 'direct', title: 'direct', url: mock.url, token: UPSTREAM_KEY, pid: null }];

  const bare = await startBareProxy(mock.url);
  children.push(bare.child);
  const bareUrl = bare.url;
  // Any key works: the bare proxy swaps in the upstream's without checking.
  targets.push({ key: 'bare', title: 'bare Node proxy', url: bareUrl, token: 'sk-any', pid: bare.child.pid });

  targets.push(await startLlmProxy('proxy', 'llm-proxy', CLI, path.join(dir, 'proxy'), mock.url, children));
  if (existsSync(NGINX_BIN)) {
    mkdirSync(path.join(dir, 'nginx'));
    const nginx = await startNginx(path.join(dir, 'nginx'), new URL(mock.url), {});
    children.push(nginx.child);
    targets.push({ key: 'nginx', title: 'nginx', url: nginx.url, token: UPSTREAM_KEY, pid: null });
  } else {
    log(`no nginx at ${NGINX_BIN}: measuring without it`);
  }
  if (before) {
    const cli = path.resolve(before);
    targets.push(
      await startLlmProxy('before', beforeTitle, cli, path.join(dir, 'before'), mock.url, children, beforeEnv),
    );
  }
  return targets;
}

/** A full llm-proxy (fresh SQLite, info-level log to a file) with a project and a token for the mock. */
async function startLlmProxy(
  key: TargetKey,
  title: string,
  cli: string,
  data: string,
  upstream: string,
  children: Child[],
  env: Record<string, string> = {},
): Promise<Target> {
  // startProxyChild sets UPSTREAM_SHARE_PERCENT=100: one token drives the whole load.
  const proxy = await startProxyChild(cli, data, upstream, { LOG_LEVEL: 'info', ...env });
  children.push(proxy.child);
  const { token } = await issueBenchToken(proxy.url, data, UPSTREAM_KEY);
  return { key, title, url: proxy.url, token, pid: proxy.child.pid };
}

/** Unmeasured mixed load on the Node servers, so V8 has compiled the hot path before the first cell. */
export async function warmUpNodeTargets(targets: Target[]): Promise<void> {
  for (const t of targets) {
    if (t.pid === null) continue;
    log(`warming up ${t.title} (JIT)…`);
    await runBenchProcess([t.url, '-t', t.token, '--profile', 'mixed', '-c', '8', '-d', '8s']);
  }
}
