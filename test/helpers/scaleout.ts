import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { PricingTable } from '../../src/usage/pricing.js';
import { freePort, OwnRedis } from '../scaleout/redis-server.js';
import { postgresDatabase, type TestDatabase } from './databases.js';
import { UPSTREAM_KEY } from './proxy.js';
import { registerSecret } from './secret-watch.js';
import { startTestServer, type TestServer } from './server.js';
import { serviceAvailable, unavailable } from './services.js';
import { Forwarder } from './tcp-forwarder.js';

/**
 * What the scale-out tests share: a wait for a condition, a chat through the official client that
 * returns the proxy's answer, readers of /health, /ready, /metrics and the log, a database reached
 * through a TCP forwarder the test can cut, and servers on a fresh PostgreSQL database (+ Redis).
 */

/** Only a hang reaches this: a wait for a condition fails naming it instead of at the test's own limit. */
export const SAFETY_NET_MS = 120_000;

/** Polls `check` until it holds; throws naming `what` if it never does. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SAFETY_NET_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${SAFETY_NET_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Something the proxy answers at: a TestServer, or a cluster's Instance. */
export interface Target {
  readonly url: string;
}

/** The official client against `target` with `token`, never retrying (each answer is counted). */
export const proxyClient = (target: Target, token: string, headers: Record<string, string> = {}) =>
  new OpenAI({
    baseURL: `${target.url}/v1`,
    apiKey: token,
    maxRetries: 0,
    timeout: SAFETY_NET_MS,
    defaultHeaders: headers,
  });

/** A request's outcome: 200, or the refusal's status, code and retry-after (when it has one). */
export interface Answer {
  status: number;
  code?: string | null | undefined;
  retryAfter?: string | undefined;
}

/** Runs `call` (a request through the official client) and says how the proxy answered it. */
export async function answer(call: () => Promise<unknown>): Promise<Answer> {
  try {
    await call();
    return { status: 200 };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) {
      const retryAfter = err.headers?.get('retry-after') ?? undefined;
      return { status: err.status, code: err.code, ...(retryAfter === undefined ? {} : { retryAfter }) };
    }
    throw err;
  }
}

/** `answer`'s outcome, or 'connection lost' where the instance died under the request. */
export async function orLost(outcome: Promise<Answer>): Promise<Answer | { status: 'connection lost' }> {
  try {
    return await outcome;
  } catch (err) {
    if (err instanceof OpenAI.APIConnectionError) return { status: 'connection lost' };
    throw err;
  }
}

/** One chat completion with `token` through `target` (with these headers and body fields). */
export const chat = (
  target: Target,
  token: string,
  headers: Record<string, string> = {},
  body: Record<string, unknown> = {},
): Promise<Answer> =>
  answer(() =>
    proxyClient(target, token, headers).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      ...body,
    }),
  );

/**
 * A streamed request that spends a budget of a few cents in a handful of requests: gpt-4.1 ($2 / $8
 * per million tokens), 1000 tokens allowed; with the mock streaming 400 (x-mock-chunks), each
 * reserves about 8,000 µ$ and uses about 3,300.
 */
export const BUDGET_STREAM = {
  model: 'gpt-4.1',
  messages: [{ role: 'user' as const, content: 'count to four hundred' }],
  max_tokens: 1000,
  stream: true as const,
  stream_options: { include_usage: true },
};

/** What the limiter reserves for BUDGET_STREAM: its prompt estimate plus max_tokens, at gpt-4.1's prices. */
export const budgetStreamEstimate = () =>
  PricingTable.load(undefined).cost('gpt-4.1', {
    promptTokens: Math.ceil(Buffer.byteLength(JSON.stringify(BUDGET_STREAM)) / 4) + 16,
    completionTokens: BUDGET_STREAM.max_tokens,
    cachedTokens: 0,
    reasoningTokens: 0,
  }) ?? Number.NaN;

/** How many answers were 200 and 429 (and the refusals' codes); any other listed. */
export function tally(answers: Answer[]) {
  const ok = answers.filter((a) => a.status === 200).length;
  const refused = answers.filter((a) => a.status === 429);
  const other = answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => `${a.status} ${a.code}`);
  return { ok, refused: refused.length, codes: [...new Set(refused.map((a) => a.code))], other };
}

/** Answers by status: { 200: n, 429: m }. */
export function statusCounts(answers: Array<{ status: number }>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

export const health = async (s: Target) => (await fetch(`${s.url}/health`)).json() as Promise<any>;
export const ready = async (s: Target) => (await fetch(`${s.url}/ready`)).status;

/** /metrics, read with the server's management token. */
export const metrics = async (s: Target & { managementToken: string }) =>
  (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.managementToken}` } })).text();

/**
 * The samples of `name` on /metrics whose labels are exactly `labels`, where a label given as
 * undefined is captured: capture value → sample value (one capture), or sample value under ''.
 */
export async function samples(
  s: Target & { managementToken: string },
  name: string,
  labels: Record<string, string | undefined> = {},
): Promise<Record<string, number>> {
  const literal = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}="${v === undefined ? '([^"]*)' : literal(v)}"`)
    .join(',');
  const re = new RegExp(`^${literal(name)}${inner ? `\\{${inner}\\}` : ''} (\\S+)$`, 'gm');
  const out: Record<string, number> = {};
  for (const m of (await metrics(s)).matchAll(re)) {
    if (m.length > 2) out[m[1] as string] = Number(m[2]);
    else out[''] = Number(m[1]);
  }
  return out;
}

/** How many of the server's log lines contain `msg`. */
export const logLines = (s: { logs(): string }, msg: string) =>
  s
    .logs()
    .split('\n')
    .filter((l) => l.includes(msg)).length;

/**
 * One query straight to PostgreSQL on a connection of its own, closed before it returns: a pool's
 * end() resolves before its connections are gone, and dropping the database then would kill one
 * mid-close (an error nobody hears).
 */
export async function queryOnce<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A TCP forwarder to `port` the test can cut, and `url` rewritten to reach its service through it. */
export async function cuttable(url: string, port: number): Promise<{ fwd: Forwarder; url: string }> {
  const fwd = new Forwarder(port);
  await fwd.listen();
  const through = new URL(url);
  through.host = `127.0.0.1:${fwd.port}`;
  return { fwd, url: through.toString() };
}

/** PostgreSQL behind a TCP forwarder the test can cut: the forwarder, and `dbUrl` through it. */
export const cuttableDatabase = (dbUrl: string) => cuttable(dbUrl, 5432);

/** Whether redis-server is installed (else the tests that start their own skip, or fail under REQUIRE_SERVICES). */
export const redisServerInstalled = () =>
  existsSync('/usr/bin/redis-server') || unavailable('redis-server is not installed');

/** A project through the management API of `s`; its id. */
export async function newProject(s: TestServer): Promise<string> {
  const res = await s.manage('POST', '/projects', {
    name: `p-${randomBytes(4).toString('hex')}`,
    api_key: UPSTREAM_KEY,
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** A token of `projectId` with these limits, through `s`. */
export async function newToken(
  s: TestServer,
  projectId: string,
  limits: Record<string, unknown> = {},
): Promise<{ id: string; token: string; projectId: string }> {
  const res = await s.manage('POST', '/tokens', { project_id: projectId, ...limits });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, token: res.body.token as string, projectId };
}

/** A project and a token with these limits on it, through `s`. */
export const issue = async (s: TestServer, limits: Record<string, unknown> = {}) =>
  newToken(s, await newProject(s), limits);

export interface ServersOnPostgres {
  /** False when PostgreSQL (or redis-server, when asked for) is missing: each test skips. */
  readonly up: boolean;
  /** The database's URL (straight to PostgreSQL). */
  readonly dbUrl: string;
  readonly mock: MockUpstream;
  /** What every server starts with: the database, the mock upstream, a key and a management token. */
  readonly base: Record<string, string>;
  /** With `withRedis`: the suite's redis-server. */
  readonly redis: OwnRedis;
  /** An in-process server on `base` plus `env`, stopped after the test (or all, see shareServers). */
  start(env?: Record<string, string>): Promise<TestServer>;
  /** A redis-server of the test's own on a free port, killed after the test; `start: false` leaves it down. */
  ownRedis(opts?: { password?: string; start?: boolean }): Promise<OwnRedis>;
  /** ownRedis reached through a TCP forwarder the test can cut (closed after the test): REDIS_URL is `url`. */
  cuttableRedis(): Promise<{ redis: OwnRedis; fwd: Forwarder; url: string }>;
  /** One query straight to the database. */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

/**
 * Registers, in the calling describe, a fresh PostgreSQL database and a mock upstream for its tests
 * (made before all, dropped after all), and stops the servers and Redis each test started after it
 * (with `shareServers`, after all the tests: servers started in a beforeAll serve every test).
 * `env`: settings every server gets (a function: read once the describe's earlier beforeAll hooks
 * ran). `redisServer`: the tests need redis-server installed; `needs`: they need what it says.
 */
export function serversOnPostgres(
  opts: {
    env?: Record<string, string> | (() => Record<string, string>);
    redisServer?: boolean;
    needs?: () => boolean | Promise<boolean>;
    shareServers?: boolean;
    /** A redis-server of the suite's own, started before all (REDIS_URL in `base`) and killed after all. */
    withRedis?: boolean;
  } = {},
): ServersOnPostgres {
  let tdb: TestDatabase | undefined;
  let dbUrl = '';
  let mock: MockUpstream | undefined;
  let base: Record<string, string> = {};
  const servers: TestServer[] = [];
  const redises: OwnRedis[] = [];
  const forwarders: Forwarder[] = [];
  let suiteRedis: OwnRedis | undefined;

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    if ((opts.redisServer || opts.withRedis) && !redisServerInstalled()) return;
    if (opts.needs && !(await opts.needs())) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    dbUrl = tdb.config.url;
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    const managementToken = randomBytes(24).toString('hex');
    registerSecret(managementToken);
    if (opts.withRedis) {
      suiteRedis = new OwnRedis(await freePort());
      await suiteRedis.start();
    }
    base = {
      DATABASE_URL: dbUrl,
      ...(suiteRedis ? { REDIS_URL: suiteRedis.url } : {}),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MANAGEMENT_TOKEN: managementToken,
      OPENAI_API_URL: mock.url,
      MAINTENANCE_INTERVAL_MS: '0',
      ...(typeof opts.env === 'function' ? opts.env() : opts.env),
    };
  });
  const stopAll = async () => {
    for (const f of forwarders) f.resume();
    for (const s of servers.splice(0)) await s.stop();
    for (const f of forwarders.splice(0)) await f.close();
    for (const r of redises.splice(0)) await r.kill();
  };
  if (!opts.shareServers) afterEach(stopAll);
  afterAll(async () => {
    await stopAll();
    await suiteRedis?.kill();
    await mock?.close();
    await tdb?.drop();
  });

  return {
    get up() {
      return tdb !== undefined;
    },
    get dbUrl() {
      return dbUrl;
    },
    get mock() {
      if (!mock) throw new Error('no mock upstream: the suite skipped');
      return mock;
    },
    get base() {
      return base;
    },
    get redis() {
      if (!suiteRedis) throw new Error('no Redis: withRedis was not asked for, or the suite skipped');
      return suiteRedis;
    },
    start: async (env = {}) => {
      const s = await startTestServer({ ...base, ...env });
      servers.push(s);
      return s;
    },
    ownRedis: async ({ password, start = true } = {}) => {
      const r = new OwnRedis(await freePort(), password);
      redises.push(r);
      if (start) await r.start();
      return r;
    },
    cuttableRedis: async () => {
      const r = new OwnRedis(await freePort());
      redises.push(r);
      await r.start();
      const { fwd, url } = await cuttable(r.url, r.port);
      forwarders.push(fwd);
      return { redis: r, fwd, url };
    },
    query: (sql, params) => queryOnce(dbUrl, sql, params),
  };
}
