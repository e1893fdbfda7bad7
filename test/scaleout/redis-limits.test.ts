import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  type Answer,
  chat,
  eventually,
  health,
  logLines,
  newProject,
  newToken,
  ready,
  samples,
  serversOnPostgres,
} from '../helpers/scaleout.js';
import { registerSecret } from '../helpers/secret-watch.js';
import type { TestServer } from '../helpers/server.js';

/** llm_proxy_limiter_backend_state{backend="redis"} by state. */
const limiterGauge = (s: TestServer) =>
  samples(s, 'llm_proxy_limiter_backend_state', { backend: 'redis', state: undefined });
const DOWN = 'Redis cannot answer';
const BACK = 'Redis answers again';

/**
 * Limits kept in Redis, through real servers on one PostgreSQL database: shared exactly between
 * instances, and what each failure mode does while Redis is down or stops answering.
 */
describe('limits shared through Redis', () => {
  const set = serversOnPostgres({ redisServer: true });
  const { start, ownRedis, cuttableRedis } = set;
  /** Whether `request` is admitted (the upstream has it, or it has already ended). */
  const upstreamGot = async (request: Promise<Answer>) => {
    const ended = await Promise.race([request.then(() => true), sleep(0).then(() => false)]);
    return ended || set.mock.stats().requests > requestsBefore;
  };
  let requestsBefore = 0;

  it('two instances admit exactly max_requests of 300 concurrent requests', async (ctx) => {
    if (!set.up) return ctx.skip();
    // A Redis with a password: the URL carries it, and nothing shows it.
    const password = randomBytes(16).toString('hex');
    registerSecret(password);
    const redis = await ownRedis({ password });
    // Exactness, not timeouts: a machine this busy can keep a reply past the default 250 ms.
    const env = { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '5000' };
    const a = await start(env);
    const b = await start(env);
    expect((await health(a)).limiter).toEqual({ backend: 'redis', state: 'ok', mode: 'closed' });
    expect(a.logs()).toContain('limits are kept in Redis');
    const t = await newToken(a, await newProject(a), { max_requests: 100 });

    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => chat(i % 2 ? b : a, t.token)));
    const count = (status: number) => answers.filter((x) => x.status === status).length;
    const other = answers.filter((x) => x.status !== 200 && x.status !== 429).map((x) => `${x.status} ${x.code}`);
    expect({ ok: count(200), refused: count(429), other }).toEqual({ ok: 100, refused: 200, other: [] });
    expect(answers.filter((x) => x.status === 429).every((x) => x.code === 'request_limit_reached')).toBe(true);
    for (const s of [a, b]) {
      expect(s.logs()).not.toContain(password);
      expect(JSON.stringify(await health(s))).not.toContain(password);
    }

    const records = async () =>
      Number((await set.query('SELECT count(*) AS n FROM usage_records WHERE token_id = $1', [t.id]))[0]?.n);
    await eventually('the usage records are written', async () => (await records()) >= 100);
    expect(await records()).toBe(100);
    // The reservation sweeper runs in one of them: the holder of its lease.
    const holders = async () =>
      (await set.query("SELECT holder FROM leases WHERE name = 'redis-sweeper'")).map((r) => r.holder);
    await eventually('one instance holds the sweeper lease', async () => (await holders()).length === 1);
    expect([a.server.runtime.instanceId, b.server.runtime.instanceId]).toContain((await holders())[0]);
  });

  it('closed mode: Redis down refuses limited tokens with 503 and passes unlimited ones; back when it returns', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis();
    const a = await start({ REDIS_URL: redis.url, REDIS_FAILURE_MODE: 'closed' });
    const p = await newProject(a);
    const limited = await newToken(a, p, { max_requests: 1000 });
    const unlimited = await newToken(a, p);
    expect(await chat(a, limited.token)).toEqual({ status: 200 });
    expect(await ready(a)).toBe(200);

    // A request admitted through Redis and still running when Redis goes: it completes.
    requestsBefore = set.mock.stats().requests;
    const slow = chat(a, limited.token, { 'x-mock-latency-ms': '1500' });
    await eventually('the slow request reached the upstream', async () => upstreamGot(slow));
    await redis.kill();
    expect((await slow).status).toBe(200);

    await eventually('a limited request is refused', async () => (await chat(a, limited.token)).status === 503);
    expect(await chat(a, limited.token)).toEqual({ status: 503, code: 'limiter_unavailable', retryAfter: '1' });
    expect(await chat(a, unlimited.token)).toEqual({ status: 200 });
    const h = await health(a);
    expect(h.limiter).toEqual({ backend: 'redis', state: 'failing', mode: 'closed' });
    expect(h.status).toBe('degraded');
    const r = await fetch(`${a.url}/ready`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as any).checks.limiter).toBe('failing: refusing limited requests');
    expect(await limiterGauge(a)).toEqual({ ok: 0, failing: 1 });

    await redis.start();
    await eventually('limited requests pass again', async () => (await chat(a, limited.token)).status === 200);
    await eventually('/ready says ready', async () => (await ready(a)) === 200);
    expect((await health(a)).limiter.state).toBe('ok');
    expect(await limiterGauge(a)).toEqual({ ok: 1, failing: 0 });
    // One line each way for the whole outage, however many requests it refused.
    expect([logLines(a, DOWN), logLines(a, BACK)]).toEqual([1, 1]);
    expect(a.logs()).not.toContain('limiter failed');
  });

  it('local mode: Redis down, each instance limits on its own; restarted, the limit is shared again', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis();
    const a = await start({ REDIS_URL: redis.url, REDIS_FAILURE_MODE: 'local' });
    const b = await start({ REDIS_URL: redis.url, REDIS_FAILURE_MODE: 'local' });
    const p = await newProject(a);
    // One request a minute: a refill is 60 s away, so the counts below cannot drift.
    const shared = await newToken(a, p, { requests_per_minute: 1 });
    expect((await chat(a, shared.token)).status).toBe(200);
    expect(await chat(b, shared.token)).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });

    await redis.kill();
    const apart = await newToken(a, p, { requests_per_minute: 1 });
    await eventually('A limits locally', async () => (await chat(a, apart.token)).status === 200);
    expect(await chat(a, apart.token)).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    await eventually('B limits locally', async () => (await chat(b, apart.token)).status === 200);
    expect(await chat(b, apart.token)).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    for (const s of [a, b]) {
      const h = await health(s);
      expect(h.limiter).toEqual({ backend: 'redis', state: 'failing', mode: 'local' });
      expect(h.status).toBe('degraded');
      const r = await fetch(`${s.url}/ready`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as any).checks.limiter).toBe('failing: limiting per instance');
    }

    await redis.start();
    await eventually('A and B use Redis again', async () => {
      const [ha, hb] = await Promise.all([health(a), health(b)]);
      return ha.limiter.state === 'ok' && hb.limiter.state === 'ok';
    });
    const again = await newToken(a, p, { requests_per_minute: 1 });
    expect((await chat(a, again.token)).status).toBe(200);
    expect(await chat(b, again.token)).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    for (const s of [a, b]) expect([logLines(s, DOWN), logLines(s, BACK)]).toEqual([1, 1]);
  });

  it('local mode: a request admitted through Redis settles there, not on the local limiter', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis();
    const a = await start({ REDIS_URL: redis.url, REDIS_FAILURE_MODE: 'local' });
    const t = await newToken(a, await newProject(a), { max_concurrent: 1 });
    // Admitted by Redis, running across the outage's start.
    requestsBefore = set.mock.stats().requests;
    const throughRedis = chat(a, t.token, { 'x-mock-latency-ms': '2000' });
    await eventually('it reached the upstream', async () => upstreamGot(throughRedis));
    await redis.kill();
    // Admitted by this instance's limiter, and held upstream until released.
    const local = chat(a, t.token, { 'x-mock-hold': '1' });
    await eventually('the local one is held upstream', async () => set.mock.stats().held === 1);
    expect((await throughRedis).status).toBe(200);
    // Had that end given back a slot on the local limiter (where it took none), this would pass.
    expect(await chat(a, t.token)).toMatchObject({ status: 429, code: 'concurrency_limit_exceeded' });
    expect(set.mock.release()).toBe(1);
    expect((await local).status).toBe(200);
    expect(await chat(a, t.token)).toEqual({ status: 200 });
  });

  it('starts while Redis is down: not ready in closed mode, and uses Redis once it is up', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis({ start: false });
    const a = await start({ REDIS_URL: redis.url, REDIS_FAILURE_MODE: 'closed' });
    expect((await health(a)).limiter).toEqual({ backend: 'redis', state: 'failing', mode: 'closed' });
    expect(await ready(a)).toBe(503);
    const limited = await newToken(a, await newProject(a), { max_requests: 10 });
    expect(await chat(a, limited.token)).toMatchObject({ status: 503, code: 'limiter_unavailable' });
    await redis.start();
    await eventually('/ready says ready', async () => (await ready(a)) === 200);
    expect(await chat(a, limited.token)).toEqual({ status: 200 });
    expect([logLines(a, DOWN), logLines(a, BACK)]).toEqual([1, 1]);
  });

  it('a settlement lost in an outage is sent again once Redis answers (its slot is not held until the sweeper)', async (ctx) => {
    if (!set.up) return ctx.skip();
    const { fwd, url } = await cuttableRedis();
    const a = await start({ REDIS_URL: url, REDIS_FAILURE_MODE: 'closed' });
    const t = await newToken(a, await newProject(a), { max_concurrent: 1 });
    const held = chat(a, t.token, { 'x-mock-hold': '1' });
    await eventually('it is held upstream', async () => set.mock.stats().held === 1);
    fwd.blackhole();
    await eventually('Redis is failing', async () => (await health(a)).limiter.state === 'failing');
    // It ends during the outage: its settlement cannot reach Redis, which keeps its data.
    expect(set.mock.release()).toBe(1);
    expect((await held).status).toBe(200);
    fwd.drop();
    await eventually('Redis answers again', async () => (await health(a)).limiter.state === 'ok');
    // Its max_concurrent slot is free again (else: 429 until the reservation's deadline).
    await eventually('the settlement was sent again', async () => (await chat(a, t.token)).status === 200);
    expect(a.logs()).toMatch(/"resettled":1\b/);
  });

  it('a Redis that stops answering (blackhole): every request is answered, then Redis is used again', async (ctx) => {
    if (!set.up) return ctx.skip();
    const { fwd, url } = await cuttableRedis();
    const a = await start({ REDIS_URL: url, REDIS_FAILURE_MODE: 'closed' });
    const p = await newProject(a);
    const limited = await newToken(a, p, { max_requests: 1000 });
    const unlimited = await newToken(a, p);
    expect(await chat(a, limited.token)).toEqual({ status: 200 });

    fwd.blackhole();
    // Concurrent requests while nothing comes back: each gets its answer (the command timeout,
    // then the open breaker answers at once), none hangs.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => chat(a, i % 2 ? limited.token : unlimited.token)),
    );
    for (const [i, x] of answers.entries()) {
      expect(x).toEqual(i % 2 ? { status: 503, code: 'limiter_unavailable', retryAfter: '1' } : { status: 200 });
    }
    expect((await health(a)).limiter.state).toBe('failing');

    fwd.resume();
    await eventually('limited requests pass again', async () => (await chat(a, limited.token)).status === 200);
    expect([logLines(a, DOWN), logLines(a, BACK)]).toEqual([1, 1]);
  });
});

describe('Redis settings', () => {
  it('a bad REDIS_URL or REDIS_FAILURE_MODE stops the start naming the setting, never the password', () => {
    const password = 'hunter2-not-shown-anywhere';
    for (const url of [`http://:${password}@redis:6379`, `redis://:${password}@[bad`]) {
      expect(() => loadConfig({ REDIS_URL: url }, {})).toThrow(/^Invalid configuration:\n {2}REDIS_URL: /);
      expect(() => loadConfig({ REDIS_URL: url }, {})).not.toThrow(password);
    }
    expect(() => loadConfig({ REDIS_FAILURE_MODE: 'open' }, {})).toThrow(
      'REDIS_FAILURE_MODE: expected one of closed, local',
    );
    expect(loadConfig({}, {}).redis).toBeUndefined();
    // Other Redis settings have fields of their own here (reconciliation, cluster and TLS: their tests).
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/1' }, {}).redis).toMatchObject({
      url: 'rediss://:pw@redis.internal:6380/1',
      failureMode: 'closed',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 1000,
      cluster: false,
      tls: {},
    });
  });
});
