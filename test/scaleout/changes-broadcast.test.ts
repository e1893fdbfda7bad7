import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, eventually, health, metrics, newProject, newToken, serversOnPostgres } from '../helpers/scaleout.js';
import type { TestServer } from '../helpers/server.js';

/** The status a request with `token` on `server` gets (200, or the proxy's refusal). */
const statusOn = async (server: TestServer, token: string): Promise<number> => (await chat(server, token)).status;

/**
 * The change-lag histogram of `server`: how many changes it applied, and how many within 1 s; of
 * those it learnt of by `via`, or all (a poll that happens to run between a commit and its NOTIFY
 * finds the change first).
 */
async function lag(
  server: TestServer,
  via?: 'notify' | 'redis' | 'poll',
): Promise<{ count: number; withinOneSecond: number }> {
  const text = await metrics(server);
  const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
  const vias = via ?? '[a-z]+';
  return {
    count: sum(new RegExp(`^llm_proxy_change_lag_seconds_count\\{via="${vias}"\\} (\\S+)$`, 'gm')),
    withinOneSecond: sum(new RegExp(`^llm_proxy_change_lag_seconds_bucket\\{le="1",via="${vias}"\\} (\\S+)$`, 'gm')),
  };
}

const feedState = async (server: TestServer): Promise<string> => (await health(server)).changes.state;

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
  // Without the change feed, B would serve a revoked token for this long.
  const set = serversOnPostgres({ env: { TOKEN_CACHE_TTL_MS: '600000' }, shareServers: true });
  let a: TestServer;
  let b: TestServer;
  let projectId: string;
  const cutListener = (listener: string) =>
    set.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [listener]);

  const issue = async (body: Record<string, unknown> = {}) => newToken(a, projectId, body);

  beforeAll(async () => {
    if (!set.up) return;
    a = await set.start();
    b = await set.start();
    projectId = await newProject(a);
  });

  it('a token revoked on A is refused on B within a second', async (ctx) => {
    if (!set.up) return ctx.skip();
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
    if (!set.up) return ctx.skip();
    const t = await issue();
    expect(await statusOn(b, t.token)).toBe(200);
    const listener = b.server.runtime.changes.signalName as string;
    expect(listener).toMatch(/^llm-proxy-changes-/);
    // Cut it, and again whenever it comes back, until B has refused the token.
    const cut = () => cutListener(listener);
    expect(await cut()).toHaveLength(1);
    await revokeWhileCut(a, b, t, cut, 'its LISTEN connection');
  });

  it('a project deactivated on A is refused on B', async (ctx) => {
    if (!set.up) return ctx.skip();
    const other = await newProject(a);
    const t = await newToken(a, other);
    expect(await statusOn(b, t.token)).toBe(200);

    expect((await a.manage('PATCH', `/projects/${other}`, { is_active: false })).status).toBe(200);
    await eventually('B refuses the inactive project’s token', async () => (await statusOn(b, t.token)) === 401);
    const after = await lag(b);
    expect(after.withinOneSecond).toBe(after.count);
  });

  it('a lowered max_requests set on A is enforced on B', async (ctx) => {
    if (!set.up) return ctx.skip();
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
  const set = serversOnPostgres({
    withRedis: true,
    env: {
      // About the change feed, not the limiter: a loaded machine must not fail a limiter call.
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      TOKEN_CACHE_TTL_MS: '600000',
    },
    shareServers: true,
  });
  let a: TestServer;
  let b: TestServer;
  let admin: ReturnType<typeof createClient>;
  let projectId: string;

  const issue = async () => newToken(a, projectId);

  beforeAll(async () => {
    if (!set.up) return;
    a = await set.start();
    b = await set.start();
    admin = createClient({ url: set.redis.url });
    await admin.connect();
    projectId = await newProject(a);
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('a token revoked on A is refused on B, announced through Redis within a second', async (ctx) => {
    if (!set.up) return ctx.skip();
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
    if (!set.up) return ctx.skip();
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
