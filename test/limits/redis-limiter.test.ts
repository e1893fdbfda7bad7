import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdmitResult, SubjectLimits, Ticket } from '../../src/limits/limits.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';
import { RedisConnection, RedisUnavailable } from '../../src/redis/connection.js';
import { dropPrefix, limits, project, testRedis, testRedisOptions } from '../helpers/limiters.js';
import { serviceAvailable } from '../helpers/services.js';

/** What only the Redis backend does (the shared contract is limiter-contract.test.ts). */

let ids = 0;
const admission = (over: { cost?: number; tokens?: number; subjects?: SubjectLimits[] } = {}) => ({
  requestId: `r${++ids}`,
  subjects: over.subjects ?? [limits({ maxConcurrent: 1, budgetNanoUsd: 1000, tokensPerMinute: 1000 }), project()],
  estimatedTokens: over.tokens ?? 100,
  estimatedCostNanoUsd: over.cost ?? 100,
});
const ticketOf = (r: AdmitResult): Ticket => {
  if (!r.ok) throw new Error(`refused: ${r.refusal.kind}`);
  return r.ticket;
};

/** Waits until `cond` holds (a safety net of 20 s; no fixed sleep). */
async function until(cond: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RedisLimiter', () => {
  let redis: RedisConnection | undefined;
  let prefix: string;
  const made: RedisLimiter[] = [];
  beforeEach(async () => {
    if (!(await serviceAvailable('redis'))) return;
    redis = await testRedis();
    prefix = `llmp-test-${randomBytes(6).toString('hex')}`;
  });
  afterEach(async () => {
    for (const l of made.splice(0)) await l.close();
    if (!redis) return;
    await dropPrefix(redis, prefix);
    await redis.close();
  });
  const limiter = (leaseMs?: number) => {
    const l = new RedisLimiter(redis as RedisConnection, async () => 0, { prefix, leaseMs });
    made.push(l);
    return l;
  };
  const redisNow = async () => {
    const [s, us] = await (redis as RedisConnection).send<[string, string]>(['TIME']);
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  it('a reservation whose instance died is swept after its lease: slot released, its estimate charged', async (ctx) => {
    if (!redis) return ctx.skip();
    const l = limiter(1);
    const t = ticketOf(await l.admit(admission()));
    expect(await l.inspect('token', 'tok', 'proj')).toMatchObject({
      inFlight: 1,
      budgets: { total: { spentNanoUsd: 0, reservedNanoUsd: 100 } },
    });
    // The instance that admitted it never settles. Once the lease has passed on Redis's clock:
    await until(async () => (await redisNow()) > t.admittedAt + 1);
    expect(await l.sweep()).toBe(1);
    const swept = await l.inspect('token', 'tok', 'proj');
    expect(swept?.inFlight).toBeUndefined();
    expect(swept?.budgets.total).toEqual({ spentNanoUsd: 100, reservedNanoUsd: 0 });
    expect(swept?.tokensTat).toBe(t.admittedAt + 6_000);
    expect(await l.sweep()).toBe(0);
    // The request did finish after all: its late settle corrects the charge to the actual use, once.
    l.settle(t, 40, 30);
    l.settle(t, 40, 30);
    await l.close();
    const settled = await l.inspect('token', 'tok', 'proj');
    expect(settled?.budgets.total).toEqual({ spentNanoUsd: 30, reservedNanoUsd: 0 });
    expect(settled?.tokensTat).toBe(t.admittedAt + 2_400);
    expect(settled?.inFlight).toBeUndefined();
  });

  it("an admission sweeps its own project's expired reservations first, so a dead instance's slot is not kept", async (ctx) => {
    if (!redis) return ctx.skip();
    const l = limiter(1);
    const t = ticketOf(await l.admit(admission()));
    await until(async () => (await redisNow()) > t.admittedAt + 1);
    // max_concurrent 1: admitted only because the expired reservation gave its slot back.
    expect((await l.admit(admission())).ok).toBe(true);
    expect((await l.inspect('token', 'tok', 'proj'))?.budgets.total).toEqual({
      spentNanoUsd: 100,
      reservedNanoUsd: 100,
    });
  });

  it('a settled reservation keeps only its state (a tombstone with a TTL), and a repeated settle still charges nothing', async (ctx) => {
    if (!redis) return ctx.skip();
    const r = redis as RedisConnection;
    const l = limiter();
    const t = ticketOf(await l.admit(admission()));
    const key = `${l.keyBase}{p:proj}:r:${t.requestId}`;
    expect(Object.keys(pairsOf(await r.send<string[]>(['HGETALL', key]))).sort()).toEqual(['d', 'k1', 'k2', 'st']);
    l.settle(t, 40, 30);
    await l.close();
    expect(pairsOf(await r.send<string[]>(['HGETALL', key]))).toEqual({ st: 'settled' });
    expect(await r.send<number>(['PTTL', key])).toBeGreaterThan(0);
    const after = await l.inspect('token', 'tok', 'proj');
    expect(after?.budgets.total).toEqual({ spentNanoUsd: 30, reservedNanoUsd: 0 });
    l.settle(t, 40, 30);
    await l.close();
    expect(await l.inspect('token', 'tok', 'proj')).toEqual(after);
  });

  it('a settle of a request id it never admitted changes nothing', async (ctx) => {
    if (!redis) return ctx.skip();
    const l = limiter();
    const t = ticketOf(await l.admit(admission()));
    const before = await l.inspect('token', 'tok', 'proj');
    l.settle({ ...t, requestId: 'never-admitted' }, 1, 1);
    await l.close();
    expect(await l.inspect('token', 'tok', 'proj')).toEqual(before);
  });

  it('a Redis that lost its data: the count is seeded from the store plus the requests in flight here, and their spend is charged when they settle', async (ctx) => {
    if (!redis) return ctx.skip();
    const conn = redis;
    // The store: 7 requests and 500 micro-dollars written before.
    const l = new RedisLimiter(conn, async () => 500, { prefix, loadCount: async () => 7 });
    made.push(l);
    const subjects = () => [limits({ maxRequests: 11, budgetNanoUsd: 10_000 }), project()];
    const first = ticketOf(await l.admit(admission({ subjects: subjects() })));
    const second = ticketOf(await l.admit(admission({ subjects: subjects() })));
    expect((await l.inspect('token', 'tok', 'proj'))?.requests).toBe(9);
    // The script tells a lost reservation by the subject's state being created after the admission,
    // both in Redis's milliseconds: within the same millisecond it cannot tell (see the settle script).
    const redisMs = async () => {
      const [s, us] = await conn.send<[string, string]>(['TIME']);
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    };
    while ((await redisMs()) <= second.admittedAt) await new Promise((r) => setImmediate(r));
    // Redis restarts empty (FLUSHALL, scoped to this test's keys): both requests are still upstream.
    await dropPrefix(conn, prefix);
    const third = ticketOf(await l.admit(admission({ subjects: subjects() })));
    // 7 in the store + the 2 in flight here + this one; the token cache's count (0) does not decide it.
    expect((await l.inspect('token', 'tok', 'proj'))?.requests).toBe(10);
    expect((await l.admit(admission({ subjects: subjects() }))).ok).toBe(true);
    expect(await l.admit(admission({ subjects: subjects() }))).toMatchObject({
      ok: false,
      refusal: { kind: 'requests' },
    });
    // The two lost their reservations with the data: their spend is charged now, once each.
    l.settle(first, 10, 30);
    l.settle(first, 10, 30);
    l.settle(second, 10, 40);
    l.settle(third, 10, 20);
    await l.close();
    expect((await l.inspect('token', 'tok', 'proj'))?.budgets.total).toEqual({
      spentNanoUsd: 500 + 30 + 40 + 20,
      reservedNanoUsd: 100,
    });
  });

  it('a request admitted by another limiter during an outage is replayed once: its request, then its cost; one Redis admitted itself is left to its settle', async (ctx) => {
    if (!redis) return ctx.skip();
    const l = limiter();
    const admitted = ticketOf(await l.admit(admission()));
    const local = { ...admitted, requestId: 'admitted-locally', settled: false };
    await l.replay(local, true, undefined);
    await l.replay(local, true, undefined);
    expect(await l.inspect('token', 'tok', 'proj')).toMatchObject({
      requests: 2,
      budgets: { total: { spentNanoUsd: 0, reservedNanoUsd: 100 } },
    });
    // Its settle reaches Redis too (the failover limiter sends it in case Redis ran the call): no effect.
    l.settle(local, 10, 25, false);
    await l.close();
    await l.replay(local, false, 25);
    await l.replay(local, false, 25);
    expect(await l.inspect('token', 'tok', 'proj')).toMatchObject({
      requests: 2,
      budgets: { total: { spentNanoUsd: 25, reservedNanoUsd: 100 } },
    });
    // Redis admitted this one (only the reply was lost): the replay changes nothing.
    await l.replay(admitted, true, 70);
    expect(await l.inspect('token', 'tok', 'proj')).toMatchObject({
      requests: 2,
      budgets: { total: { spentNanoUsd: 25, reservedNanoUsd: 100 } },
    });
  });

  it('the metrics read budget use from a snapshot refreshed in the background', async (ctx) => {
    if (!redis) return ctx.skip();
    const l = limiter();
    ticketOf(await l.admit(admission({ cost: 250 })));
    expect(l.budgetUse()).toEqual([]);
    await until(() => l.budgetUse().length > 0);
    expect(l.budgetUse()).toEqual([{ kind: 'token', id: 'tok', used: 0.25 }]);
  });

  it('runs a script the server does not know by EVAL, after which EVALSHA finds it', async (ctx) => {
    if (!redis) return ctx.skip();
    const body = `return 'fresh ${randomBytes(8).toString('hex')}'`;
    const [known] = await redis.send<number[]>(['SCRIPT', 'EXISTS', sha1(body)]);
    expect(known).toBe(0);
    expect(await redis.script<string>(body, [], [])).toMatch(/^fresh /);
    expect(await redis.send<number[]>(['SCRIPT', 'EXISTS', sha1(body)])).toEqual([1]);
    expect(await redis.script<string>(body, [], [])).toMatch(/^fresh /);
  });

  it('a command that gets no answer times out; after N failures the breaker answers at once, then a probe closes it', async (ctx) => {
    if (!redis) return ctx.skip();
    const proxy = await freezableProxy();
    const conn = new RedisConnection(
      testRedisOptions({
        url: `redis://127.0.0.1:${proxy.port}`,
        commandTimeoutMs: 200,
        breakerFailures: 3,
        breakerOpenMs: 300,
      }),
    );
    try {
      await conn.connect();
      expect(await conn.send(['PING'])).toBe('PONG');
      proxy.freeze();
      for (let i = 0; i < 3; i++) await expect(conn.send(['PING'])).rejects.toBeInstanceOf(RedisUnavailable);
      expect(conn.breaker.state).toBe('open');
      // Open: refused without waiting for Redis at all.
      await expect(conn.send(['PING'])).rejects.toThrow('circuit breaker is open');
      proxy.thaw();
      await until(() => conn.breaker.state === 'half-open');
      await until(async () => (await conn.send(['PING']).catch(() => 'failed')) === 'PONG');
      expect(conn.breaker.state).toBe('closed');
    } finally {
      await conn.close().catch(() => undefined);
      await proxy.close();
    }
  });
});

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** A TCP proxy to the test Redis that can stop passing replies (a server that hangs), and resume. */
async function freezableProxy() {
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(6379, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      // Frozen: replies are held back, as by a server that stopped answering for a while.
      if (frozen) held.push(() => client.write(d));
      else client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const f of held.splice(0)) f();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('RedisConnection', () => {
  it('a server that accepts but never answers fails the connection after the connect timeout', async () => {
    const held = new Set<net.Socket>();
    const silent = net.createServer((s) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const conn = new RedisConnection(testRedisOptions({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 200 }));
    try {
      await expect(conn.connect()).rejects.toThrow('did not answer within 200 ms');
      expect(conn.ready).toBe(false);
    } finally {
      await conn.close();
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

/** A flat HGETALL reply as an object. */
function pairsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}
