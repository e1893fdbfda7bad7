import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from '../../src/mock-upstream/index.js';
import type { Clock } from '../../src/shared/clock.js';
import type { UsageRow } from '../../src/store/schema.js';
import { registerSecret } from './secret-watch.js';
import { startTestServer, type TestServer } from './server.js';

/** The project's real upstream key: the mock accepts only this one. */
export const UPSTREAM_KEY = 'sk-upstream-real-key-4f1c9d2e7a';
registerSecret(UPSTREAM_KEY);

export interface IssuedToken {
  id: string;
  token: string;
}

export interface ProxyInit extends Omit<RequestInit, 'headers'> {
  headers?: Record<string, string>;
  /** Token to present as `Authorization: Bearer`; the stack's own by default, null for none. */
  token?: string | null;
}

export interface ProxyStack {
  mock: MockUpstream;
  s: TestServer;
  /** The proxy's base URL (no /v1). */
  url: string;
  projectId: string;
  tokenId: string;
  token: string;
  /** Official OpenAI client pointed at the proxy with the stack's token. */
  client: OpenAI;
  clientFor(token: string): OpenAI;
  /** Issues another token for the stack's project (or the given one). */
  issueToken(body?: Record<string, unknown>): Promise<IssuedToken>;
  /** Creates another project (base_url optional) with a token of its own. */
  addProject(name: string, baseUrl?: string): Promise<{ projectId: string } & IssuedToken>;
  /** fetch through the proxy. */
  proxy(path: string, init?: ProxyInit): Promise<Response>;
  /** fetch straight to the mock upstream, with the real key. */
  direct(path: string, init?: Omit<ProxyInit, 'token'>): Promise<Response>;
  /** Flushes the usage writer and returns the token's records, oldest first. */
  usage(tokenId?: string): Promise<UsageRow[]>;
  /** The usage record of one proxied response (found by its x-llm-proxy-request-id), waiting for it (see `until`). */
  recordOf(res: Response, tokenId?: string): Promise<UsageRow>;
  /** Waits until the token has at least `count` usage records (records are written after the response). */
  waitUsage(tokenId: string, count: number): Promise<UsageRow[]>;
  stop(): Promise<void>;
}

export interface ProxyStackOptions {
  env?: Record<string, string>;
  mock?: MockUpstreamOptions;
  /** The server's time source (expiry, limits): e.g. a manualClock() the test moves. */
  clock?: Clock;
}

/** Mock upstream + real in-process server (fresh SQLite) pointing at it + a project and a token. */
export async function startProxyStack(opts: ProxyStackOptions = {}): Promise<ProxyStack> {
  const mock = await startMockUpstream({ apiKey: UPSTREAM_KEY, ...opts.mock });
  let s: TestServer;
  try {
    s = await startTestServer({ OPENAI_API_URL: mock.url, USAGE_FLUSH_INTERVAL_MS: '20', ...opts.env }, opts.clock);
  } catch (err) {
    await mock.close();
    throw err;
  }
  const project = await s.manage('POST', '/projects', { name: 'main', api_key: UPSTREAM_KEY });
  if (project.status !== 201) throw new Error(`project: ${JSON.stringify(project.body)}`);
  const projectId: string = project.body.id;

  const issueFor = async (pid: string, body: Record<string, unknown> = {}): Promise<IssuedToken> => {
    const res = await s.manage('POST', '/tokens', { project_id: pid, ...body });
    if (res.status !== 201) throw new Error(`token: ${JSON.stringify(res.body)}`);
    return { id: res.body.id, token: res.body.token };
  };
  const first = await issueFor(projectId);
  const clientFor = (token: string) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });

  const stack: ProxyStack = {
    mock,
    s,
    url: s.url,
    projectId,
    tokenId: first.id,
    token: first.token,
    client: clientFor(first.token),
    clientFor,
    issueToken: (body) => issueFor(projectId, body),
    async addProject(name, baseUrl) {
      const res = await s.manage('POST', '/projects', {
        name,
        api_key: UPSTREAM_KEY,
        ...(baseUrl ? { base_url: baseUrl } : {}),
      });
      if (res.status !== 201) throw new Error(`project: ${JSON.stringify(res.body)}`);
      return { projectId: res.body.id, ...(await issueFor(res.body.id)) };
    },
    proxy(path, init = {}) {
      const { token = stack.token, headers, ...rest } = init;
      return fetch(`${s.url}${path}`, {
        ...rest,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
      });
    },
    direct(path, init = {}) {
      const { headers, ...rest } = init;
      return fetch(`${mock.url}${path}`, { ...rest, headers: { authorization: `Bearer ${UPSTREAM_KEY}`, ...headers } });
    },
    async usage(tokenId = stack.tokenId) {
      await s.server.runtime.usage.flush();
      return (await s.server.runtime.usageRepo.listByToken(tokenId, 1000)).reverse();
    },
    async recordOf(res, tokenId = stack.tokenId) {
      const requestId = res.headers.get('x-llm-proxy-request-id');
      if (!requestId) throw new Error('response has no x-llm-proxy-request-id');
      let found: UsageRow | undefined;
      await until(async () => {
        found = (await stack.usage(tokenId)).find((r) => r.request_id === requestId);
        return found !== undefined;
      });
      return found as UsageRow;
    },
    async waitUsage(tokenId, count) {
      let rows: UsageRow[] = [];
      await until(async () => {
        rows = await stack.usage(tokenId);
        return rows.length >= count;
      });
      return rows;
    },
    async stop() {
      try {
        await s.stop();
      } finally {
        await mock.close();
      }
    },
  };
  return stack;
}

/** JSON headers for a fetch body. */
export const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** A TCP port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Streams the stack's mock upstream has finished either way (completed or aborted) since its last reset. */
export function ended(st: ProxyStack): number {
  const s = st.mock.stats();
  return s.completedStreams + s.abortedStreams;
}

/**
 * Polls `check` until it returns true. There is no deadline here on purpose: the condition is one
 * the code under test promises (a record is written, a stream is cancelled), and how soon it holds
 * depends on how busy the machine is, so a short deadline is a flaky test. The test's own time
 * limit catches a condition that never comes. To check that something happened promptly, wait for
 * the outcome either way (aborted or completed) and assert which one it was.
 */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(10);
}

/**
 * The mock upstream mints random ids (`randomBytes`) and wall-clock timestamps for every reply, so
 * two identical requests differ only there. Replacing exactly those fields with placeholders lets a
 * test compare everything else byte for byte.
 */
export function normaliseIds(text: string): string {
  return text
    .replace(/"(id|item_id)":"(chatcmpl-|cmpl-|resp_|msg_)[0-9a-f]+"/g, '"$1":"$2X"')
    .replace(/"(created|created_at)":\d+/g, '"$1":0');
}
