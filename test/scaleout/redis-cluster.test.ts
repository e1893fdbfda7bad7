import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubjectLimits } from '../../src/limits/limits.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';
import { RedisConnection, RedisUnavailable } from '../../src/redis/connection.js';
import { admission, dropPrefix, limits, project, REDIS_URL, testRedisOptions } from '../helpers/limiters.js';
import {
  chat,
  eventually,
  health,
  metrics,
  newProject,
  newToken,
  samples,
  serversOnPostgres,
} from '../helpers/scaleout.js';
import { registerSecret } from '../helpers/secret-watch.js';
import type { TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { makeCertificates, OwnRedisCluster, redisServerAvailable } from './redis-cluster-server.js';

/** Changes B applied that it learnt of through Redis pub/sub (the change-lag histogram's count). */
async function learntByRedis(server: TestServer): Promise<number> {
  return (await samples(server, 'llm_proxy_change_lag_seconds_count', { via: 'redis' }))[''] ?? 0;
}

/**
 * A real Redis Cluster of three masters (test/scaleout/redis-cluster-server.ts): each project's
 * keys live on the master of its hash tag's slot, so projects spread over the nodes.
 */
describe('Redis Cluster', () => {
  let cluster: OwnRedisCluster | undefined;
  let password: string;

  beforeAll(async () => {
    if (!(await redisServerAvailable())) return;
    password = randomBytes(16).toString('hex');
    registerSecret(password);
    cluster = await OwnRedisCluster.start({ masters: 3, password });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Ids whose `{p:<id>}` hash tag puts `perMaster` of them on each master. */
  async function idsOnEveryMaster(c: OwnRedisCluster, perMaster: number): Promise<Map<number, string[]>> {
    const byPort = new Map<number, string[]>(c.ports.map((p) => [p, []]));
    for (let i = 0; [...byPort.values()].some((ids) => ids.length < perMaster); i++) {
      const id = `proj-${i}`;
      const ids = byPort.get(await c.portOf(`{p:${id}}`)) as string[];
      if (ids.length < perMaster) ids.push(id);
    }
    return byPort;
  }

  it('admissions go to the master of their project; the sweeper settles expired reservations on every master', async (ctx) => {
    if (!cluster) return ctx.skip();
    const c = cluster;
    const conn = new RedisConnection(testRedisOptions({ url: c.url, cluster: true }));
    await conn.connect();
    const prefix = `llmp-test-${randomBytes(6).toString('hex')}`;
    // Reservations expire at once: the sweeper may settle each as soon as it is made.
    const limiter = new RedisLimiter(conn, async () => 0, { prefix, leaseMs: 1 });
    try {
      const byPort = await idsOnEveryMaster(c, 2);
      const subjects = (id: string): SubjectLimits[] => [
        limits({ id: `tok-${id}` }),
        project({ id, maxConcurrent: 5 }),
      ];
      // One admission per project (a second would sweep the first's expired reservation itself).
      for (const ids of byPort.values()) {
        for (const id of ids) expect((await limiter.admit(admission(subjects(id)))).ok).toBe(true);
      }
      // Each master holds the keys of its own projects and of no other.
      for (const [port, ids] of byPort) {
        const keys = (await c.cli(port, '--scan', '--pattern', `${prefix}:*`)).split('\n').filter(Boolean);
        const tags = new Set(keys.map((k) => /\{p:([^}]+)\}/.exec(k)?.[1]));
        expect([...tags].sort()).toEqual([...ids].sort());
      }
      const all = [...byPort.values()].flat();
      for (const id of all) expect((await limiter.inspect('project', id))?.inFlight).toBe(1);

      // Past every deadline (admitted + 1 ms) on the servers' clock, one sweep settles the
      // reservations of all six projects, on all three masters.
      const [s0, us0] = await conn.send<[string, string]>(['TIME']);
      const after = Number(s0) * 1000 + Number(us0) / 1000 + 2;
      await eventually('the deadlines pass', async () => {
        const [sec, us] = await conn.send<[string, string]>(['TIME']);
        return Number(sec) * 1000 + Number(us) / 1000 > after;
      });
      expect(await limiter.sweep()).toBe(all.length);
      for (const id of all) expect((await limiter.inspect('project', id))?.inFlight).toBeUndefined();
    } finally {
      await limiter.close();
      await dropPrefix(conn, prefix);
      await conn.close();
    }
  });

  it('a master that cannot serve its slot (CLUSTERDOWN) is an outage for the failure mode, not an error', async (ctx) => {
    if (!cluster) return ctx.skip();
    const c = cluster;
    const conn = new RedisConnection(testRedisOptions({ url: c.url, cluster: true, breakerOpenMs: 50 }));
    await conn.connect();
    const prefix = `llmp-test-${randomBytes(6).toString('hex')}`;
    const limiter = new RedisLimiter(conn, async () => 0, { prefix });
    const id = 'proj-down';
    const port = await c.portOf(`{p:${id}}`);
    const slot = (await c.cli(port, 'CLUSTER', 'KEYSLOT', `{p:${id}}`)).trim();
    const subjects = [limits({ id: 'tok-down', maxRequests: 100 }), project({ id })];
    let restored = false;
    try {
      expect((await limiter.admit(admission(subjects))).ok).toBe(true);
      // The master forgets the slot: it answers CLUSTERDOWN for it (and, its map incomplete, for all).
      expect((await c.cli(port, 'CLUSTER', 'DELSLOTS', slot)).trim()).toBe('OK');
      const err = await limiter.admit(admission(subjects)).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(RedisUnavailable);
      expect(err?.message).toContain('CLUSTERDOWN');

      expect((await c.cli(port, 'CLUSTER', 'ADDSLOTS', slot)).trim()).toBe('OK');
      restored = true;
      await eventually('the slot is served again', async () =>
        limiter.admit(admission(subjects)).then(
          (r) => r.ok,
          () => false,
        ),
      );
    } finally {
      // The other tests need the slot served.
      if (!restored) await c.cli(port, 'CLUSTER', 'ADDSLOTS', slot);
      await limiter.close();
      await dropPrefix(conn, prefix).catch(() => undefined);
      await conn.close();
    }
  });

  it('a master lost: its projects are an outage, the others are served (its slot map found through them); back, it serves again', async (ctx) => {
    if (!cluster) return ctx.skip();
    const c = cluster;
    // The node REDIS_URL names is the one lost: a new client, made when the breaker opens, must find
    // the slot map through the masters the last one knew.
    const conn = new RedisConnection(
      testRedisOptions({ url: c.url, cluster: true, breakerFailures: 3, breakerOpenMs: 50 }),
    );
    await conn.connect();
    const prefix = `llmp-test-${randomBytes(6).toString('hex')}`;
    const limiter = new RedisLimiter(conn, async () => 0, { prefix });
    const byPort = await idsOnEveryMaster(c, 1);
    const [lost, other] = [byPort.get(c.ports[0] as number)?.[0], byPort.get(c.ports[1] as number)?.[0]] as [
      string,
      string,
    ];
    const subjects = (id: string) => [limits({ id: `tok-${id}` }), project({ id, maxRequests: 1000 })];
    const admitted = (id: string) =>
      limiter.admit(admission(subjects(id))).then(
        (r) => r.ok,
        (err: Error) => {
          if (!(err instanceof RedisUnavailable)) throw err;
          return false;
        },
      );
    try {
      expect(await admitted(lost)).toBe(true);
      expect(await admitted(other)).toBe(true);
      await c.kill(0);
      const err = await limiter.admit(admission(subjects(lost))).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(RedisUnavailable);
      // Enough failures open the breaker, whose new client reads the slot map from another master.
      for (let i = 0; i < 3; i++) await admitted(lost);
      await eventually('the other master serves', () => admitted(other));
      for (let i = 0; i < 5; i++) expect(await admitted(other)).toBe(true);

      await c.restart(0);
      await eventually('the lost master serves again', () => admitted(lost));
    } finally {
      await c.restart(0).catch(() => undefined);
      await limiter.close();
      await dropPrefix(conn, prefix).catch(() => undefined);
      await conn.close();
    }
  });

  it('a cluster over TLS: rediss:// to every master, with a private CA and client certificates', async (ctx) => {
    if (!cluster) return ctx.skip();
    const dir = mkdtempSync(path.join(tmpdir(), 'llmp-redis-cluster-tls-'));
    let tlsCluster: OwnRedisCluster | undefined;
    try {
      await makeCertificates(dir);
      tlsCluster = await OwnRedisCluster.start({ masters: 3, password, tls: dir, parent: dir });
      const tls = {
        ca: readFileSync(path.join(dir, 'ca.crt')),
        cert: readFileSync(path.join(dir, 'client.crt')),
        key: readFileSync(path.join(dir, 'client.key')),
      };
      expect(tlsCluster.url).toMatch(/^rediss:/);
      const conn = new RedisConnection(testRedisOptions({ url: tlsCluster.url, cluster: true, tls }));
      await conn.connect();
      const limiter = new RedisLimiter(conn, async () => 0, { prefix: 'llmp-test-tls' });
      try {
        const byPort = await idsOnEveryMaster(tlsCluster, 1);
        for (const [id] of byPort.values()) {
          const s = [limits({ id: `tok-${id}`, maxRequests: 1 }), project({ id: id as string })];
          expect((await limiter.admit(admission(s))).ok).toBe(true);
          const refused = await limiter.admit(admission(s));
          expect(refused.ok ? 'admitted' : refused.refusal.kind).toBe('requests');
        }
        // Every master was reached (SCAN on each finds its project's keys).
        const tags = new Set((await conn.scan('llmp-test-tls:*')).map((k) => /\{p:([^}]+)\}/.exec(k)?.[1]));
        expect([...tags].sort()).toEqual([...byPort.values()].flat().sort());
      } finally {
        await limiter.close();
        await conn.close();
      }
    } finally {
      await tlsCluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('REDIS_CLUSTER against a server that is not a cluster: an outage whose message says why', async (ctx) => {
    if (!(await serviceAvailable('redis'))) return ctx.skip();
    const conn = new RedisConnection(testRedisOptions({ url: REDIS_URL, cluster: true }));
    try {
      await expect(conn.connect()).rejects.toThrow(RedisUnavailable);
      const err = await conn.send(['PING']).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(RedisUnavailable);
      expect(err?.message).toContain('cluster support disabled');
    } finally {
      await conn.close();
    }
  });

  describe('two proxy instances on the cluster', () => {
    const set = serversOnPostgres({
      needs: () => cluster !== undefined,
      env: () => ({
        REDIS_URL: (cluster as OwnRedisCluster).url,
        REDIS_CLUSTER: 'true',
        // Exactness, not timeouts, is under test here.
        REDIS_COMMAND_TIMEOUT_MS: '5000',
        // Tokens stay cached and the change log is not polled: only Redis pub/sub brings a revocation.
        TOKEN_CACHE_TTL_MS: '600000',
        CHANGES_POLL_MS: '600000',
      }),
      shareServers: true,
    });
    let a: TestServer;
    let b: TestServer;

    beforeAll(async () => {
      if (!set.up) return;
      a = await set.start();
      b = await set.start();
    });

    it('exact max_requests across both for tokens of projects on every master; revocations reach B through pub/sub', async (ctx) => {
      if (!set.up || !cluster) return ctx.skip();
      const c = cluster;
      expect((await health(a)).limiter).toEqual({
        backend: 'redis',
        state: 'ok',
        mode: 'closed',
      });
      expect(a.logs()).toContain('limits are kept in Redis');
      expect(a.logs()).toContain('(cluster)');

      // Projects until every master holds at least one (a project's slot is its id's hash).
      const tokens: Array<{ id: string; token: string; projectId: string }> = [];
      const masters = new Set<number>();
      while (masters.size < c.ports.length) {
        const projectId = await newProject(a);
        const port = await c.portOf(`{p:${projectId}}`);
        if (masters.has(port)) continue;
        masters.add(port);
        tokens.push(await newToken(a, projectId, { max_requests: 20 }));
      }

      // 50 concurrent requests per token, alternating between A and B: exactly 20 each pass.
      const answers = await Promise.all(
        tokens.flatMap((t) =>
          Array.from({ length: 50 }, (_, i) => chat(i % 2 ? b : a, t.token).then((r) => ({ token: t.id, ...r }))),
        ),
      );
      for (const t of tokens) {
        const mine = answers.filter((x) => x.token === t.id);
        const other = mine.filter((x) => x.status !== 200 && x.status !== 429).map((x) => `${x.status} ${x.code}`);
        expect({ ok: mine.filter((x) => x.status === 200).length, other }).toEqual({ ok: 20, other: [] });
        expect(mine.filter((x) => x.status === 429).every((x) => x.code === 'request_limit_reached')).toBe(true);
        // Its keys are on its project's master.
        const port = await c.portOf(`{p:${t.projectId}}`);
        expect(await c.cli(port, 'EXISTS', `llmp:v3:{p:${t.projectId}}:token:${t.id}`)).toContain('1');
      }

      // Revocations through A reach B by pub/sub (polling is off), whichever node each was published on.
      const first = tokens[0] as { projectId: string };
      for (let i = 0; i < 6; i++) {
        const t = await a.manage('POST', '/tokens', { project_id: first.projectId });
        expect(t.status).toBe(201);
        expect((await chat(b, t.body.token)).status).toBe(200);
        const before = await learntByRedis(b);
        expect((await a.manage('DELETE', `/tokens/${t.body.id}`)).status).toBe(204);
        await eventually('B refuses the revoked token', async () => (await chat(b, t.body.token)).status === 401);
        expect(await learntByRedis(b)).toBeGreaterThan(before);
      }

      // One of them holds the sweeper's lease; nothing shows the password.
      const holders = async () =>
        (await set.query("SELECT holder FROM leases WHERE name = 'redis-sweeper'")).map((r) => r.holder);
      await eventually('one instance holds the sweeper lease', async () => (await holders()).length === 1);
      for (const s of [a, b]) {
        expect(s.logs()).not.toContain(password);
        expect(JSON.stringify(await health(s))).not.toContain(password);
        expect(await metrics(s)).not.toContain(password);
      }
    });

    it("B's change subscriber, its node lost, connects to another master; revocations reach B through it", async (ctx) => {
      if (!set.up || !cluster) return ctx.skip();
      const c = cluster;
      const name = b.server.runtime.changes.signalName as string;
      const feedState = async () => (await health(b)).changes.state;
      /** The index of the node B's subscriber is connected to (CLIENT LIST by its name), of those still up. */
      const subscriberNode = async (up: (i: number) => boolean) => {
        for (const [i, port] of c.ports.entries()) {
          if (up(i) && (await c.cli(port, 'CLIENT', 'LIST')).includes(`name=${name} `)) return i;
        }
        return -1;
      };
      await eventually('B listens', async () => (await feedState()) === 'listening');
      const lost = await subscriberNode(() => true);
      expect(lost).toBeGreaterThanOrEqual(0);

      await c.kill(lost);
      try {
        await eventually(
          'B listens again, on another master',
          async () => (await subscriberNode((i) => i !== lost)) >= 0 && (await feedState()) === 'listening',
        );
      } finally {
        await c.restart(lost);
      }
      const projectId = await newProject(a);
      for (let i = 0; i < 3; i++) {
        const t = await a.manage('POST', '/tokens', { project_id: projectId });
        expect((await chat(b, t.body.token)).status).toBe(200);
        const before = await learntByRedis(b);
        expect((await a.manage('DELETE', `/tokens/${t.body.id}`)).status).toBe(204);
        await eventually('B refuses the revoked token', async () => (await chat(b, t.body.token)).status === 401);
        expect(await learntByRedis(b)).toBeGreaterThan(before);
      }
    });
  });
});
