import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ManualClock, manualClock } from '../helpers/clock.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { until } from '../helpers/proxy.js';
import { cuttableDatabase, proxyClient, queryOnce } from '../helpers/scaleout.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import type { Forwarder } from '../helpers/tcp-forwarder.js';

/**
 * Issue #20, "Database down": PostgreSQL becomes unreachable under a running proxy (behind a TCP
 * forwarder that either holds every byte or resets every connection), then returns. Cached tokens
 * keep working, tokens the proxy cannot check get 503 `store_unavailable` (never 401), /ready says
 * the store is down, and the usage of every request served meanwhile is written once it returns.
 */

const REQUEST_ID = 'x-llm-proxy-request-id';

/** The usage rows of these request ids, as id → number of rows (straight from PostgreSQL). */
async function rowsById(url: string, ids: string[]): Promise<Map<string, number>> {
  const rows = await queryOnce<{ id: string; n: string }>(
    url,
    'SELECT id, count(*) AS n FROM usage_records WHERE id = ANY($1) GROUP BY id',
    [ids],
  );
  return new Map(rows.map((x) => [x.id, Number(x.n)]));
}

/** A token of the same shape as a real one that this proxy never issued. */
const lookalike = (real: string) =>
  real.slice(0, -16) + randomBytes(16).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);

interface Stack {
  tdb: TestDatabase;
  directUrl: string;
  fwd: Forwarder;
  mock: MockUpstream;
  env: Record<string, string>;
}

async function stack(extra: Record<string, string> = {}): Promise<Stack | undefined> {
  if (!(await serviceAvailable('postgres'))) return undefined;
  const tdb = await postgresDatabase();
  if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
  const { fwd, url } = await cuttableDatabase(tdb.config.url);
  const mock = await startMockUpstream({ apiKey: 'sk-upstream' });
  const env = {
    DATABASE_URL: url,
    // Short, so a blackholed database fails fast; generous enough for a loaded machine once it is back.
    DATABASE_QUERY_TIMEOUT_MS: '1000',
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    OPENAI_API_URL: mock.url,
    USAGE_FLUSH_INTERVAL_MS: '50',
    ...extra,
  };
  return { tdb, directUrl: tdb.config.url, fwd, mock, env };
}

async function teardown(st: Stack | undefined, servers: Array<TestServer | undefined>): Promise<void> {
  if (!st) return;
  st.fwd.resume();
  for (const s of servers) await s?.stop();
  await st.mock.close();
  await st.fwd.close();
  await st.tdb.drop();
}

/** Calls `call` until the store answers (not a 503 store_unavailable); the last answer. */
async function answered<T extends { status: number }>(call: () => Promise<T>): Promise<T> {
  let last = await call();
  while (last.status === 503) last = await call();
  return last;
}

/**
 * One chat while the store answers, which caches the token; asked again after a 503 (a token lookup
 * that outlasted the query timeout on a loaded machine is refused before admission: no record).
 */
async function warmChat(client: OpenAI): Promise<string[]> {
  for (;;) {
    try {
      return await chats(client, 1, 'warm');
    } catch (err) {
      if (!(err instanceof OpenAI.APIError && err.status === 503)) throw err;
    }
  }
}

/** Chats through the proxy; returns the request ids the proxy gave them. */
async function chats(client: OpenAI, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${label} ${i}` }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    ids.push(response.headers.get(REQUEST_ID) as string);
  }
  return ids;
}

const variants = [
  { name: 'blackholed (connections open, nothing answers)', cut: (f: Forwarder) => f.blackhole() },
  { name: 'refusing (every connection reset)', cut: (f: Forwarder) => f.refuse() },
];

describe.each(variants)('PostgreSQL unreachable mid-run: $name', ({ cut }) => {
  let st: Stack | undefined;
  let s: TestServer | undefined;
  const clock: ManualClock = manualClock();

  beforeAll(async () => {
    st = await stack({ TOKEN_CACHE_TTL_MS: '30000' });
    if (st) s = await startTestServer(st.env, clock.now);
  });
  afterAll(() => teardown(st, [s]));

  it('serves cached tokens, answers 503 store_unavailable for unchecked ones, and loses no usage', async (ctx) => {
    if (!st || !s) return ctx.skip();
    const { fwd, directUrl } = st;
    const srv = s;
    // Before the outage the store answers, though a loaded machine can outlast the short query
    // timeout (a 503): each step is asked again until the store answers it.
    const p = await answered(() =>
      srv.manage('POST', '/projects', { name: `outage-${randomBytes(3).toString('hex')}`, api_key: 'sk-upstream' }),
    );
    const warm = await answered(() => srv.manage('POST', '/tokens', { project_id: p.body.id }));
    const cold = await answered(() => srv.manage('POST', '/tokens', { project_id: p.body.id }));
    for (const created of [p, warm, cold]) expect(created.status).toBe(201);
    const client = proxyClient(srv, warm.body.token);
    const coldClient = proxyClient(srv, cold.body.token);
    const never = lookalike(warm.body.token);

    const before = await warmChat(client); // caches the token
    const usage = srv.server.runtime.usage;
    await until(() => usage.pending === 0 && usage.written === 1);

    cut(fwd);
    // The cached token is served: the proxy never waits on the database.
    const fresh = await chats(client, 5, 'outage');
    // Also once its cache entry outlived TOKEN_CACHE_TTL_MS: the store cannot say otherwise.
    clock.advance(30_001);
    const during = [...fresh, ...(await chats(client, 2, 'stale'))];
    // Tokens the proxy has not cached cannot be checked: 503, never a 401 that would tell a
    // client its valid token is wrong.
    for (const bearer of [never, cold.body.token]) {
      const r = await fetch(`${srv.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(r.status).toBe(503);
      const body = (await r.json()) as { error: unknown };
      expect(body.error).toMatchObject({ code: 'store_unavailable', type: 'server_error' });
      expect(JSON.stringify(body)).not.toMatch(/postgres:\/\/|127\.0\.0\.1|at .*\.js/);
    }
    const viaClient = await coldClient.models.list().catch((e: unknown) => e);
    expect(viaClient).toBeInstanceOf(OpenAI.APIError);
    expect(viaClient).toMatchObject({ status: 503, code: 'store_unavailable' });

    // The management API cannot answer either.
    const list = await srv.manage('GET', '/projects');
    expect(list.status).toBe(503);
    expect(list.body.error).toMatchObject({ code: 'store_unavailable' });

    // Readiness names the store; the usage of the outage waits in memory (and the journal).
    await until(() => usage.health().failing !== undefined);
    const ready = await fetch(`${srv.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      checks: { database: 'unreachable', usage_writer: expect.stringMatching(/^failing: /) },
      usage_pending: 7,
    });
    expect(usage).toMatchObject({ pending: 7, written: 1, dropped: 0 });

    fwd.resume();
    await until(() => usage.pending === 0 && usage.health().failing === undefined);
    // Every served request has exactly one record: none lost, none written twice.
    const rows = await rowsById(directUrl, [...before, ...during]);
    expect([...before, ...during].map((id) => rows.get(id) ?? 0)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect((await srv.manage('GET', `/tokens/${warm.body.id}`)).body.request_count).toBe(8);
    await until(async () => (await fetch(`${srv.url}/ready`)).status === 200);

    // With the store back, the same tokens get their real answers.
    expect((await coldClient.models.list()).data.length).toBeGreaterThan(0);
    // A query may still outlast DATABASE_QUERY_TIMEOUT_MS on a loaded machine just after the outage
    // (a 503, which the SDK above retries by itself): ask until the store answers, then it is a 401.
    let gone = new Response();
    await until(async () => {
      gone = await fetch(`${srv.url}/v1/models`, { headers: { authorization: `Bearer ${never}` } });
      return gone.status !== 503;
    });
    expect(gone.status).toBe(401);
    expect(((await gone.json()) as { error: unknown }).error).toMatchObject({ code: 'invalid_api_key' });
  });
});

describe('PostgreSQL unreachable past USAGE_QUEUE_LIMIT', () => {
  let st: Stack | undefined;
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-test-database-down.test.ts-'));
    st = await stack({ USAGE_QUEUE_LIMIT: '2', DATA_DIR: dataDir });
    if (st) first = await startTestServer(st.env);
  });
  afterAll(async () => {
    await teardown(st, [first, second]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the records memory could not hold from the journal once it returns, each once, without a restart', async (ctx) => {
    if (!st || !first) return ctx.skip();
    const { fwd, directUrl } = st;
    const srv = first;
    const p = await answered(() => srv.manage('POST', '/projects', { name: 'overflow', api_key: 'sk-upstream' }));
    const t = await answered(() => srv.manage('POST', '/tokens', { project_id: p.body.id }));
    for (const created of [p, t]) expect(created.status).toBe(201);
    const client = proxyClient(first, t.body.token);
    const before = await warmChat(client);
    const usage = first.server.runtime.usage;
    await until(() => usage.pending === 0 && usage.written === 1);

    fwd.refuse();
    const during = await chats(client, 5, 'outage');
    // Memory holds the newest two; the oldest three left it, counted and logged, not silently.
    await until(() => usage.pending + usage.dropped === 5);
    expect(usage).toMatchObject({ pending: 2, dropped: 3 });
    expect(usage.health().spilled).toBe(3);
    expect(first.logs()).toContain('usage queue full: dropped oldest records');

    fwd.resume();
    // The journal kept them: read back from it and written as soon as the store answers.
    await until(() => usage.pending === 0 && usage.health().spilled === 0 && usage.health().failing === undefined);
    const all = [...before, ...during];
    let rows = await rowsById(directUrl, all);
    expect(all.map((id) => rows.get(id) ?? 0)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(usage).toMatchObject({ written: 3, recovered: 3 });
    expect((await first.manage('GET', `/tokens/${t.body.id}`)).body.request_count).toBe(6);
    expect(first.logs()).toContain('usage records that had left memory were written from the journal');

    // Nothing is left for the next start to write again.
    await first.stop();
    first = undefined;
    second = await startTestServer(st.env);
    rows = await rowsById(directUrl, all);
    expect(all.map((id) => rows.get(id) ?? 0)).toEqual([1, 1, 1, 1, 1, 1]);
    expect((await second.manage('GET', `/tokens/${t.body.id}`)).body.request_count).toBe(6);
  });
});
