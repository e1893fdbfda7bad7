import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { SubjectLimits } from '../../src/limits/limits.js';
import { type DriftReport, Reconciler } from '../../src/limits/reconcile.js';
import { LimitTotals } from '../../src/limits/reconcile-store.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';
import { createLogger } from '../../src/observability/logger.js';
import type { RedisConnection } from '../../src/redis/connection.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { postgresDatabase } from '../helpers/databases.js';
import { dropPrefix, limits, project as projectLimits, testRedis } from '../helpers/limiters.js';
import { insertProjectAndToken } from '../helpers/rows.js';
import {
  chat,
  eventually,
  health,
  newProject,
  newToken,
  proxyClient,
  samples,
  serversOnPostgres,
  statusCounts,
} from '../helpers/scaleout.js';
import type { TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { redisServerAvailable, sharedCluster } from './redis-cluster-server.js';

const MESSAGES = [{ role: 'user' as const, content: 'hi' }];

/** A streamed completion the client leaves after two chunks. */
async function cutStream(s: TestServer, token: string): Promise<void> {
  const stream = await proxyClient(s, token).chat.completions.create(
    { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
    { headers: { 'x-mock-chunks': '400', 'x-mock-chunk-delay-ms': '5' } },
  );
  let seen = 0;
  for await (const _ of stream) if (++seen === 2) break;
}

/** A streamed completion read to its end. */
async function fullStream(s: TestServer, token: string): Promise<void> {
  const stream = await proxyClient(s, token).chat.completions.create(
    { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
    { headers: { 'x-mock-chunks': '5' } },
  );
  for await (const _ of stream) {
  }
}

const limiterOf = (s: TestServer) => {
  const l = s.server.runtime.sharedLimiter;
  if (!l) throw new Error('no Redis limiter');
  return l;
};
const reconcile = (s: TestServer) => limiterOf(s).reconcile() as Promise<DriftReport>;
/** llm_proxy_limiter_drift by kind, as /metrics shows it. */
const driftGauge = (s: TestServer) => samples(s, 'llm_proxy_limiter_drift', { kind: undefined });

/** A gauge without labels from /metrics; undefined when it has no sample. */
const gauge = async (s: TestServer, name: string) => (await samples(s, name))[''];

/**
 * The Redis counters against the database (issue #20): the reconciliation job finds no drift after a
 * mixed run and finds a counter changed by hand; a Redis restarted empty, or back after an outage in
 * local mode, holds what was admitted before and meanwhile, so a cap stays exact.
 */
describe('Redis counters reconciled with the database', () => {
  const set = serversOnPostgres({
    redisServer: true,
    env: {
      // The tests run passes themselves.
      REDIS_RECONCILE_INTERVAL_MS: '0',
      // About exactness, not timeouts: a loaded machine can hold a reply past the default.
      REDIS_COMMAND_TIMEOUT_MS: '5000',
    },
  });
  const { start, ownRedis, cuttableRedis } = set;
  const connections: RedisConnection[] = [];

  const connect = async (url: string) => {
    const c = await testRedis({ url });
    connections.push(c);
    return c;
  };
  /** The token's request_count in the database, once its usage records are written. */
  const requestCount = async (s: TestServer, tokenId: string) => {
    await s.server.runtime.usage.flush();
    return (await s.manage('GET', `/tokens/${tokenId}`)).body.request_count as number;
  };
  const tokenKey = (projectId: string, tokenId: string) => `llmp:v3:{p:${projectId}}:token:${tokenId}`;

  afterEach(async () => {
    for (const c of connections.splice(0)) await c.close();
  });

  it('no drift after a mixed run; a counter changed in Redis shows as drift, and one below the database is raised', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis();
    const a = await start({ REDIS_URL: redis.url });
    const p = await newProject(a);
    const busy = await newToken(a, p, { max_requests: 100, budget_usd: 5, budget_period: 'day' });
    const capped = await newToken(a, p, { max_requests: 2, budget_usd: 5 });
    const paced = await newToken(a, p, { requests_per_minute: 2 });

    // Completed, streamed, cut by the client, failed upstream, and refused by a cap and a rate.
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => chat(a, busy.token)),
      ...Array.from({ length: 2 }, () => chat(a, busy.token, { 'x-mock-status': '500' })),
    ]);
    expect(statusCounts(answers)).toEqual({ 200: 6, 500: 2 });
    await Promise.all([
      fullStream(a, busy.token),
      fullStream(a, busy.token),
      cutStream(a, busy.token),
      cutStream(a, busy.token),
    ]);
    expect(statusCounts(await Promise.all([1, 2, 3].map(() => chat(a, capped.token))))).toEqual({ 200: 2, 429: 1 });
    expect(statusCounts(await Promise.all([1, 2, 3].map(() => chat(a, paced.token))))).toEqual({ 200: 2, 429: 1 });
    // Every admitted request has its usage record (the cut streams' once the proxy saw the client go).
    await eventually('every usage record is written', async () => (await requestCount(a, busy.id)) === 12);
    expect(await requestCount(a, capped.id)).toBe(2);
    expect(await requestCount(a, paced.id)).toBe(2);

    const clean = await reconcile(a);
    // Three tokens and their project.
    expect(clean.subjects).toBe(4);
    expect([clean.drift, clean.drifting, clean.subjectsDrifting]).toEqual([
      { requests: 0, budgetNanoUsd: 0 },
      { requests: 0, budgetNanoUsd: 0 },
      [],
    ]);
    expect(await driftGauge(a)).toEqual({ requests: 0, budget_nano_usd: 0 });
    // The budgets compared are the ones spent on: the busy token's day, the capped one's lifetime.
    const state = await limiterOf(a).inspect('token', busy.id, p);
    const dayKey = Object.keys(state?.budgets ?? {}).find((k) => k.startsWith('day:')) as string;
    expect(state?.budgets[dayKey]?.spentNanoUsd).toBeGreaterThan(0);

    // Changed by hand: 5 requests and 1234 micro-dollars too many. Reported, never lowered.
    const r = await connect(redis.url);
    const key = tokenKey(p, busy.id);
    await r.send(['HINCRBY', key, 'n', '5']);
    const spent = Number(await r.send<string>(['HGET', key, `s|${dayKey}`]));
    await r.send(['HSET', key, `s|${dayKey}`, String(spent + 1234)]);
    for (let pass = 0; pass < 2; pass++) {
      const high = await reconcile(a);
      expect([high.drift, high.drifting, high.corrected]).toEqual([
        { requests: 5, budgetNanoUsd: 1234 },
        { requests: 1, budgetNanoUsd: 1 },
        0,
      ]);
      expect(high.subjectsDrifting).toEqual([{ kind: 'token', id: busy.id, requests: 5, budgets: { [dayKey]: 1234 } }]);
    }
    expect(await driftGauge(a)).toEqual({ requests: 5, budget_nano_usd: 1234 });
    expect(a.logs()).toContain('limiter counters in Redis differ from the database');

    // Below the database (Redis would allow more than has happened): raised by the difference. A day
    // or month younger than the reservations' lease (15 minutes by default, on Redis's clock) is
    // reported but not raised, so the server's own job would raise the day only after 00:15 UTC:
    // passes with a lease fixed here check both rules at any time of day.
    const pass = (reservationLeaseMs: number) =>
      new Reconciler(r, new LimitTotals(a.server.runtime.db), {
        base: key.slice(0, key.indexOf('{')),
        intervalMs: 0,
        correct: true,
        reservationLeaseMs,
        logger: createLogger({ level: 'warn', stream: new PassThrough() }),
      }).run();
    await r.send(['HSET', key, 'n', '9', `s|${dayKey}`, String(spent - 100)]);
    // Every day young: the count is raised, the day's spend only reported.
    const young = await pass(Number.POSITIVE_INFINITY);
    expect([young.drift, young.corrected]).toEqual([{ requests: 3, budgetNanoUsd: 100 }, 1]);
    expect(young.subjectsDrifting).toEqual([{ kind: 'token', id: busy.id, requests: -3, budgets: { [dayKey]: -100 } }]);
    expect(await r.send<string>(['HGET', key, `s|${dayKey}`])).toBe(String(spent - 100));
    // No day young: the day's spend is raised too.
    const old = await pass(0);
    expect([old.drift, old.corrected]).toEqual([{ requests: 0, budgetNanoUsd: 100 }, 1]);
    expect((await reconcile(a)).drift).toEqual({ requests: 0, budgetNanoUsd: 0 });
    expect(await r.send<string>(['HGET', key, 'n'])).toBe('12');
    expect(await r.send<string>(['HGET', key, `s|${dayKey}`])).toBe(String(spent));
  });

  it('the job runs every REDIS_RECONCILE_INTERVAL_MS in the one instance holding its lease', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis();
    const env = { REDIS_URL: redis.url, REDIS_RECONCILE_INTERVAL_MS: '50' };
    const a = await start(env);
    const b = await start(env);
    const t = await newToken(a, await newProject(a), { max_requests: 10 });
    expect(await chat(a, t.token)).toEqual({ status: 200 });
    expect(await chat(b, t.token)).toEqual({ status: 200 });
    await eventually('both usage records are written', async () => (await requestCount(b, t.id)) === 2);
    const runs = async (s: TestServer) => (await gauge(s, 'llm_proxy_limiter_reconcile_runs_total')) ?? -1;
    let holder: TestServer | undefined;
    await eventually('one instance ran a pass', async () => {
      for (const s of [a, b]) if ((await runs(s)) > 0) holder = s;
      return holder !== undefined;
    });
    const runner = holder as TestServer;
    const other = runner === a ? b : a;
    // Passes keep coming, there only: the other instance runs none and exports no drift.
    const first = await runs(runner);
    await eventually('another pass ran', async () => (await runs(runner)) > first);
    expect(await runs(other)).toBe(0);
    expect(await driftGauge(runner)).toEqual({ requests: 0, budget_nano_usd: 0 });
    expect(await driftGauge(other)).toEqual({});
    const subjects = async (s: TestServer) =>
      Object.entries(await samples(s, 'llm_proxy_limiter_reconciled_subjects', { kind: undefined })).map(
        ([kind, n]) => `${kind}=${n}`,
      );
    expect(await subjects(runner)).toEqual(['token=1', 'project=1']);
    expect(await subjects(other)).toEqual([]);
  });

  it('Redis restarted empty mid-run: no hang, and max_requests stays exact (counters rebuilt from the database)', async (ctx) => {
    if (!set.up) return ctx.skip();
    const redis = await ownRedis();
    const a = await start({ REDIS_URL: redis.url, REDIS_FAILURE_MODE: 'closed' });
    const p = await newProject(a);
    const t = await newToken(a, p, { max_requests: 20, budget_usd: 10 });

    for (let i = 0; i < 6; i++) expect(await chat(a, t.token)).toEqual({ status: 200 });
    // Two admitted before the restart, still upstream across it.
    const held = [chat(a, t.token, { 'x-mock-hold': '1' }), chat(a, t.token, { 'x-mock-hold': '1' })];
    await eventually('both are held upstream', () => set.mock.stats().held === 2);

    await redis.kill();
    // Closed mode: refused at once (503), never left waiting.
    const down = await Promise.all([chat(a, t.token), chat(a, t.token)]);
    expect(down).toEqual([
      { status: 503, code: 'limiter_unavailable', retryAfter: '1' },
      { status: 503, code: 'limiter_unavailable', retryAfter: '1' },
    ]);
    await redis.start();
    await eventually('Redis is used again', async () => (await health(a)).limiter.state === 'ok');

    // Redis holds nothing now: this admission seeds the count from the database (6) plus the two
    // in flight here (the token cache still says 0).
    expect(await chat(a, t.token)).toEqual({ status: 200 });
    expect((await limiterOf(a).inspect('token', t.id, p))?.requests).toBe(9);
    expect(set.mock.release()).toBe(2);
    expect((await Promise.all(held)).map((x) => x.status)).toEqual([200, 200]);

    // 20 at once against the 11 left: exactly 11.
    const after = await Promise.all(Array.from({ length: 20 }, () => chat(a, t.token)));
    expect(statusCounts(after)).toEqual({ 200: 11, 429: 9 });
    await eventually('every usage record is written', async () => (await requestCount(a, t.id)) === 20);
    // The held requests' spend reached the rebuilt budget too: no drift.
    const report = await reconcile(a);
    expect([report.drift, report.subjectsDrifting]).toEqual([{ requests: 0, budgetNanoUsd: 0 }, []]);
  });

  it('local mode: what instances admitted during an outage is in Redis once it returns, and the cap holds', async (ctx) => {
    if (!set.up) return ctx.skip();
    const { fwd, url } = await cuttableRedis();
    const a = await start({ REDIS_URL: url, REDIS_FAILURE_MODE: 'local' });
    const p = await newProject(a);
    const t = await newToken(a, p, { max_requests: 15, budget_usd: 10 });
    for (let i = 0; i < 5; i++) expect(await chat(a, t.token)).toEqual({ status: 200 });

    // Redis keeps its data but cannot be reached: this instance limits on its own.
    fwd.refuse();
    await eventually('Redis is failing', async () => (await health(a)).limiter.state === 'failing');
    for (let i = 0; i < 4; i++) expect(await chat(a, t.token)).toEqual({ status: 200 });
    // One admitted locally, still upstream when Redis returns: its spend follows when it ends.
    const held = chat(a, t.token, { 'x-mock-hold': '1' });
    await eventually('it is held upstream', () => set.mock.stats().held === 1);
    expect(limiterOf(a).replaysPending).toBe(5);

    fwd.resume();
    await eventually('Redis is used again', async () => (await health(a)).limiter.state === 'ok');
    expect(a.logs()).toMatch(/"replayed":5\b/);
    // 5 through Redis, 5 admitted locally: Redis counts them all.
    expect((await limiterOf(a).inspect('token', t.id, p))?.requests).toBe(10);
    expect(set.mock.release()).toBe(1);
    expect((await held).status).toBe(200);
    await eventually('the last replay is sent', () => limiterOf(a).replaysPending === 0);

    // 10 at once against the 5 left: exactly 5.
    const after = await Promise.all(Array.from({ length: 10 }, () => chat(a, t.token)));
    expect(statusCounts(after)).toEqual({ 200: 5, 429: 5 });
    await eventually('every usage record is written', async () => (await requestCount(a, t.id)) === 15);
    // The spend of the local admissions reached Redis: no drift.
    const report = await reconcile(a);
    expect([report.drift, report.subjectsDrifting]).toEqual([{ requests: 0, budgetNanoUsd: 0 }, []]);
  });
});

/** The job on a Redis Cluster: subjects of several slots are found on every master, and corrected there. */
describe('reconciliation on a Redis Cluster', () => {
  it('compares and raises the counters of subjects on every master', async (ctx) => {
    if (!(await serviceAvailable('postgres')) || !(await redisServerAvailable())) return ctx.skip();
    const tdb = await postgresDatabase();
    const db = openDatabase(tdb.config);
    const redis = await testRedis({ url: (await sharedCluster()).url, cluster: true });
    const prefix = `llmp-reconcile-${randomBytes(6).toString('hex')}`;
    try {
      await migrateToLatest(db);
      const limiter = new RedisLimiter(redis, async () => 0, { prefix });
      const pairs = await Promise.all([1, 2, 3, 4].map(() => insertProjectAndToken(db)));
      const subjectsOf = (p: { projectId: string; tokenId: string }): SubjectLimits[] => [
        limits({ id: p.tokenId, maxRequests: 100 }),
        projectLimits({ id: p.projectId }),
      ];
      let n = 0;
      for (const p of pairs) {
        for (let i = 0; i < 2; i++) {
          const r = await limiter.admit({
            requestId: `cluster-${++n}`,
            subjects: subjectsOf(p),
            estimatedTokens: 1,
            estimatedCostNanoUsd: 0,
          });
          if (!r.ok) throw new Error('refused');
          limiter.settle(r.ticket, 1, 0);
        }
      }
      await limiter.close();
      // What the usage writer would have counted for those requests.
      await db.updateTable('tokens').set({ request_count: 2 }).execute();
      await db.updateTable('projects').set({ request_count: 2 }).execute();
      const slots = new Set(
        await Promise.all(pairs.map(async (p) => redis.send<number>(['CLUSTER', 'KEYSLOT', `{p:${p.projectId}}`]))),
      );
      expect(slots.size).toBeGreaterThan(1);

      const logger = createLogger({ level: 'warn', stream: new PassThrough() });
      const job = new Reconciler(redis, new LimitTotals(db), {
        base: limiter.keyBase,
        intervalMs: 0,
        correct: true,
        logger,
      });
      const clean = await job.run();
      expect([clean.subjectsByKind, clean.drift]).toEqual([
        { token: 4, project: 4 },
        { requests: 0, budgetNanoUsd: 0 },
      ]);
      const last = pairs[3] as { projectId: string; tokenId: string };
      await redis.send(['HSET', `${limiter.keyBase}{p:${last.projectId}}:project:${last.projectId}`, 'n', '1']);
      const low = await job.run();
      expect([low.drift, low.corrected]).toEqual([{ requests: 1, budgetNanoUsd: 0 }, 1]);
      expect((await job.run()).drift).toEqual({ requests: 0, budgetNanoUsd: 0 });
    } finally {
      await dropPrefix(redis, prefix);
      await redis.close();
      await db.destroy();
      await tdb.drop();
    }
  });
});
