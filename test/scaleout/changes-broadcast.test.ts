import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { freePort, OwnRedis } from './redis-server.js';

/** Only a hang reaches this: the promise is 1 s, which the lag metric holds. */
const SAFETY_NET_MS = 60_000;

/** Polls `check` until it holds; fails (rather than hangs) past the safety net. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SAFETY_NET_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${SAFETY_NET_MS} ms: ${what}`);
    await sleep(10);
  }
}

/** The status a request with `token` on `server` gets (200, or the proxy's refusal). */
async function statusOn(server: TestServer, token: string): Promise<number> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
  try {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return err.status;
    throw err;
  }
}

/**
 * The change-lag histogram of `server`: how many changes it applied, and how many within 1 s; of
 * those it learnt of by `via`, or all (a poll that happens to run between a commit and its NOTIFY
 * finds the change first).
 */
async function lag(
  server: TestServer,
  via?: 'notify' | 'redis' | 'poll',
): Promise<{ count: number; withinOneSecond: number }> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.managementToken}` } });
  const text = await res.text();
  const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
  const vias = via ?? '[a-z]+';
  return {
    count: sum(new RegExp(`^llm_proxy_change_lag_seconds_count\\{via="${vias}"\\} (\\S+)$`, 'gm')),
    withinOneSecond: sum(new RegExp(`^llm_proxy_change_lag_seconds_bucket\\{le="1",via="${vias}"\\} (\\S+)$`, 'gm')),
  };
}

const feedState = async (server: TestServer): Promise<string> =>
  ((await (await fetch(`${server.url}/health`)).json()) as { changes: { state: string } }).changes.state;

/**
 * Two real servers on one PostgreSQL database: a change made through A's management API reaches
 * B's token cache (NOTIFY, or the poll when the LISTEN connection is gone) well within a second,
 * although B's cache would keep the token for TOKEN_CACHE_TTL_MS (10 minutes here).
 */
/**
 * Cuts B's change signal (`cut`, again whenever it comes back) while A revokes `t`: the poll alone
 * brings the revocation to B, each applied change within a second; afterwards the signal comes
 * back by itself.
 */
async function revokeWhileCut(
  a: TestServer,
  b: TestServer,
  t: { id: string; token: string },
  cut: () => Promise<unknown>,
  signal: string,
): Promise<void> {
  let cutting = true;
  const cutter = (async () => {
    while (cutting) {
      await cut();
      await sleep(20);
    }
  })();
  try {
    await eventually(`B sees ${signal} gone`, async () => (await feedState(b)) === 'polling-only');
    const before = await lag(b, 'poll');

    expect((await a.manage('DELETE', `/tokens/${t.id}`)).status).toBe(204);
    await eventually('B refuses the revoked token', async () => (await statusOn(b, t.token)) === 401);

    const after = await lag(b, 'poll');
    expect(after.count).toBeGreaterThan(before.count);
    expect(after.withinOneSecond).toBe(after.count);
  } finally {
    cutting = false;
    await cutter;
  }
  await eventually(`B has ${signal} again`, async () => (await feedState(b)) === 'listening');
}

describe('changes reach every instance', () => {
  let tdb: TestDatabase | undefined;
  let mock: MockUpstream;
  let a: TestServer;
  let b: TestServer;
  let admin: pg.Client;
  let projectId: string;

  const issue = async (body: Record<string, unknown> = {}) => {
    const res = await a.manage('POST', '/tokens', { project_id: projectId, ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  };

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    const managementToken = randomBytes(24).toString('hex');
    registerSecret(managementToken);
    const env = {
      DATABASE_URL: tdb.config.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MANAGEMENT_TOKEN: managementToken,
      OPENAI_API_URL: mock.url,
      // Without the change feed, B would serve a revoked token for this long.
      TOKEN_CACHE_TTL_MS: '600000',
      MAINTENANCE_INTERVAL_MS: '0',
    };
    a = await startTestServer(env);
    b = await startTestServer(env);
    admin = new pg.Client({ connectionString: tdb.config.url });
    await admin.connect();
    const project = await a.manage('POST', '/projects', { name: 'shared', api_key: UPSTREAM_KEY });
    expect(project.status).toBe(201);
    projectId = project.body.id;
  });
  afterAll(async () => {
    await admin?.end();
    await b?.stop();
    await a?.stop();
    await mock?.close();
    await tdb?.drop();
  });

  it('a token revoked on A is refused on B within a second', async (ctx) => {
    if (!tdb) return ctx.skip();
    await eventually('B listens', async () => (await feedState(b)) === 'listening');
    const t = await issue();
    expect(await statusOn(b, t.token)).toBe(200); // B caches it
    const before = await lag(b);

    expect((await a.manage('DELETE', `/tokens/${t.id}`)).status).toBe(204);
    await eventually('B refuses the revoked token', async () => (await statusOn(b, t.token)) === 401);

    const after = await lag(b);
    expect(after.count).toBeGreaterThan(before.count);
    expect(after.withinOneSecond).toBe(after.count);
  });

  it('with B’s LISTEN connection cut, the poll still brings the revocation within a second', async (ctx) => {
    if (!tdb) return ctx.skip();
    const t = await issue();
    expect(await statusOn(b, t.token)).toBe(200);
    const listener = b.server.runtime.changes.signalName as string;
    expect(listener).toMatch(/^llm-proxy-changes-/);
    // Cut it, and again whenever it comes back, until B has refused the token.
    const cut = () =>
      admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [listener]);
    expect((await cut()).rowCount).toBe(1);
    await revokeWhileCut(a, b, t, cut, 'its LISTEN connection');
  });

  it('a project deactivated on A is refused on B', async (ctx) => {
    if (!tdb) return ctx.skip();
    const other = await a.manage('POST', '/projects', { name: 'to-deactivate', api_key: UPSTREAM_KEY });
    const t = (await a.manage('POST', '/tokens', { project_id: other.body.id })).body as { token: string };
    expect(await statusOn(b, t.token)).toBe(200);

    expect((await a.manage('PATCH', `/projects/${other.body.id}`, { is_active: false })).status).toBe(200);
    await eventually('B refuses the inactive project’s token', async () => (await statusOn(b, t.token)) === 401);
    const after = await lag(b);
    expect(after.withinOneSecond).toBe(after.count);
  });

  it('a lowered max_requests set on A is enforced on B', async (ctx) => {
    if (!tdb) return ctx.skip();
    const t = await issue();
    expect(await statusOn(b, t.token)).toBe(200);
    expect(await statusOn(b, t.token)).toBe(200);

    expect((await a.manage('PATCH', `/tokens/${t.id}`, { max_requests: 1 })).status).toBe(200);
    await eventually('B refuses past the new cap', async () => (await statusOn(b, t.token)) === 429);
    const after = await lag(b);
    expect(after.withinOneSecond).toBe(after.count);
  });
});

/**
 * The same two servers with REDIS_URL set: changes are announced by Redis pub/sub instead of
 * NOTIFY (published after commit), and the poll still brings them when the subscriber is cut.
 */
describe('changes reach every instance through Redis', () => {
  let tdb: TestDatabase | undefined;
  let redis: OwnRedis;
  let mock: MockUpstream;
  let a: TestServer;
  let b: TestServer;
  let admin: ReturnType<typeof createClient>;
  let projectId: string;

  const issue = async () => {
    const res = await a.manage('POST', '/tokens', { project_id: projectId });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  };

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    redis = new OwnRedis(await freePort());
    await redis.start();
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    const managementToken = randomBytes(24).toString('hex');
    registerSecret(managementToken);
    const env = {
      DATABASE_URL: tdb.config.url,
      REDIS_URL: redis.url,
      // About the change feed, not the limiter: a loaded machine must not fail a limiter call.
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MANAGEMENT_TOKEN: managementToken,
      OPENAI_API_URL: mock.url,
      TOKEN_CACHE_TTL_MS: '600000',
      MAINTENANCE_INTERVAL_MS: '0',
    };
    a = await startTestServer(env);
    b = await startTestServer(env);
    admin = createClient({ url: redis.url });
    await admin.connect();
    const project = await a.manage('POST', '/projects', { name: 'shared', api_key: UPSTREAM_KEY });
    expect(project.status).toBe(201);
    projectId = project.body.id;
  });
  afterAll(async () => {
    await admin?.close();
    await b?.stop();
    await a?.stop();
    await mock?.close();
    await redis?.kill();
    await tdb?.drop();
  });

  it('a token revoked on A is refused on B, announced through Redis within a second', async (ctx) => {
    if (!tdb) return ctx.skip();
    await eventually('B subscribes', async () => (await feedState(b)) === 'listening');
    const t = await issue();
    expect(await statusOn(b, t.token)).toBe(200);
    const before = await lag(b, 'redis');

    expect((await a.manage('DELETE', `/tokens/${t.id}`)).status).toBe(204);
    await eventually('B refuses the revoked token', async () => (await statusOn(b, t.token)) === 401);

    // Learnt of through Redis (or, rarely, by a poll that ran between the commit and the publish:
    // then the next revocation is tried, until one arrives by Redis).
    let after = await lag(b, 'redis');
    for (let i = 0; after.count === before.count && i < 20; i++) {
      const u = await issue();
      expect((await a.manage('DELETE', `/tokens/${u.id}`)).status).toBe(204);
      await eventually('B refuses it', async () => (await statusOn(b, u.token)) === 401);
      after = await lag(b, 'redis');
    }
    expect(after.count).toBeGreaterThan(before.count);
    expect(after.withinOneSecond).toBe(after.count);
    // B's feed is woken by its Redis subscriber (named so in CLIENT LIST), not by a LISTEN connection.
    expect(await subscriberNames()).toContain(b.server.runtime.changes.signalName);
  });

  it('with B’s subscriber connection killed, the poll still brings the revocation within a second', async (ctx) => {
    if (!tdb) return ctx.skip();
    const t = await issue();
    expect(await statusOn(b, t.token)).toBe(200);
    const name = b.server.runtime.changes.signalName as string;
    expect(name).toMatch(/^llm-proxy-changes-/);
    const cut = async () => {
      for (const id of await clientIds(name)) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]).catch(() => {});
    };
    expect((await clientIds(name)).length).toBe(1);
    await revokeWhileCut(a, b, t, cut, 'its subscriber');
  });

  /** CLIENT LIST, as name → id. */
  async function clients(): Promise<Array<{ id: string; name: string }>> {
    const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
    return list
      .split('\n')
      .filter(Boolean)
      .map((line) => ({
        id: /(?:^| )id=(\d+)/.exec(line)?.[1] ?? '',
        name: /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '',
      }));
  }
  async function clientIds(name: string): Promise<string[]> {
    return (await clients()).filter((c) => c.name === name).map((c) => c.id);
  }
  async function subscriberNames(): Promise<string[]> {
    return (await clients()).map((c) => c.name).filter((n) => n.startsWith('llm-proxy-changes-'));
  }
});
