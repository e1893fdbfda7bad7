import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import { RESERVATION_TTL_MS, StoreCountedLimiter } from '../../src/limits/store-counted-limiter.js';
import { MOCK_HEADERS } from '../../src/mock-upstream/options.js';
import { createLogger } from '../../src/observability/logger.js';
import { openDatabase } from '../../src/store/database.js';
import { LimitCountersRepo } from '../../src/store/limit-counters-repo.js';
import { admission, limits, project } from '../helpers/limiters.js';
import { until } from '../helpers/proxy.js';
import {
  type Answer,
  answer,
  BUDGET_STREAM,
  budgetStreamEstimate,
  chat,
  cuttableDatabase,
  health,
  issue,
  proxyClient,
  serversOnPostgres,
  tally,
} from '../helpers/scaleout.js';
import type { TestServer } from '../helpers/server.js';

/**
 * Several instances on one PostgreSQL database and no Redis: request caps and lifetime budgets are
 * counted in the database (limits/store-counted-limiter.ts), so the instances together hold them
 * exactly; a reservation left by an instance that died is swept; a database that cannot answer
 * refuses the admission of a limited token with 503.
 */

describe('exact caps and lifetime budgets through PostgreSQL, without Redis', () => {
  const set = serversOnPostgres();
  const { start, query } = set;
  const counters = async (kind: string, id: string) =>
    (
      await query<{ requests: string; spent_nano_usd: string; reserved_nano_usd: string }>(
        'SELECT requests, spent_nano_usd, reserved_nano_usd FROM limit_counters WHERE kind = $1 AND subject_id = $2',
        [kind, id],
      )
    ).map((r) => ({
      requests: Number(r.requests),
      spent: Number(r.spent_nano_usd),
      reserved: Number(r.reserved_nano_usd),
    }))[0];
  const records = async (tokenId: string) =>
    query<{ cost_nano_usd: string | null; status: number }>(
      'SELECT cost_nano_usd, status FROM usage_records WHERE token_id = $1',
      [tokenId],
    );
  const reservations = async (subjectId: string) =>
    Number(
      (await query<{ n: string }>('SELECT count(*) AS n FROM limit_reservations WHERE subject_id = $1', [subjectId]))[0]
        ?.n,
    );

  it('max_requests 100 hit by 500 concurrent requests across three instances lets exactly 100 through', async (ctx) => {
    if (!set.up) return ctx.skip();
    const servers3 = [await start(), await start(), await start()];
    for (const s of servers3) expect(s.server.runtime.countedLimiter).toBeDefined();
    // An operator sees where the caps are kept.
    expect((await health(servers3[0] as TestServer)).limiter).toEqual({ backend: 'database' });
    const t = await issue(servers3[0] as TestServer, { max_requests: 100 });

    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) => chat(servers3[i % 3] as TestServer, t.token)),
    );
    expect(tally(answers)).toEqual({ ok: 100, refused: 400, codes: ['request_limit_reached'], other: [] });
    expect(await counters('token', t.id)).toMatchObject({ requests: 100 });

    // The usage writer's request_count counts the same 100 requests, once.
    await until(async () => (await records(t.id)).length >= 100);
    expect((await records(t.id)).length).toBe(100);
    await until(
      async () => (await (servers3[0] as TestServer).manage('GET', `/tokens/${t.id}`)).body.request_count >= 100,
    );
    expect((await (servers3[0] as TestServer).manage('GET', `/tokens/${t.id}`)).body.request_count).toBe(100);
    expect(await chat(servers3[1] as TestServer, t.token)).toEqual({ status: 429, code: 'request_limit_reached' });
  });

  it('a lifetime budget of a few cents is never overspent by more than one estimate; settled spend equals the records', async (ctx) => {
    if (!set.up) return ctx.skip();
    const servers3 = [await start(), await start(), await start()];
    const budgetNano = 30_000_000; // 3 cents
    const t = await issue(servers3[0] as TestServer, { budget_usd: budgetNano / 1e9, budget_period: 'total' });
    const body = BUDGET_STREAM;
    const estimate = budgetStreamEstimate();
    const stream = async (s: TestServer) => {
      const st = await proxyClient(s, t.token, { [MOCK_HEADERS.chunks]: '400' }).chat.completions.create(body);
      for await (const _ of st);
    };
    // Rounds of nine concurrent streams, three per instance, until a round gets none through.
    const answers: Answer[] = [];
    for (let round = 0; ; round++) {
      // Settlements follow the responses: a wave starts once the last one's are in, so a wave
      // refused whole means the budget is spent, not still reserved.
      await until(async () => (await reservations(t.id)) === 0);
      const wave = await Promise.all(
        Array.from({ length: 9 }, (_, i) => answer(() => stream(servers3[i % 3] as TestServer))),
      );
      answers.push(...wave);
      if (wave.every((a) => a.status !== 200)) break;
      expect(round).toBeLessThan(30);
    }
    const got = tally(answers);
    expect(got).toMatchObject({ codes: ['budget_exceeded'], other: [] });
    expect(got.ok).toBeGreaterThan(3);

    await until(async () => (await records(t.id)).length >= got.ok);
    const rows = await records(t.id);
    expect(rows.length).toBe(got.ok);
    const spent = rows.reduce((sum, r) => sum + Number(r.cost_nano_usd ?? 0), 0);
    // Three instances each with the whole budget would spend up to three times it.
    expect(spent).toBeLessThanOrEqual(budgetNano + estimate);
    expect(spent).toBeGreaterThan(budgetNano - estimate);
    // Every reservation settled with the actual cost: the counter says what the records say.
    await until(async () => (await reservations(t.id)) === 0);
    expect(await counters('token', t.id)).toEqual({ requests: got.ok, spent, reserved: 0 });
    const inspected = await servers3[2]?.server.runtime.limiter.inspect('token', t.id);
    expect(inspected?.budgets.total).toEqual({ spentNanoUsd: spent, reservedNanoUsd: 0 });
  });

  it('the reservation of an instance that died is swept after its deadline, charged its estimate', async (ctx) => {
    if (!set.up) return ctx.skip();
    const a = await start();
    const t = await issue(a, { budget_usd: 1, budget_period: 'total', max_requests: 10 });
    const logger = createLogger({ level: 'silent' });
    // Another instance, as its process sees it: it admits a request and dies before settling it.
    const otherDb = openDatabase({ kind: 'postgres', url: set.dbUrl });
    const other = new StoreCountedLimiter(
      new MemoryLimiter(async () => 0),
      new LimitCountersRepo(otherDb),
      async () => 0,
      { instanceId: 'dead-host:1:ffff', clock: Date.now, logger },
    );
    const subjects = [limits({ id: t.id, budgetNanoUsd: 1_000_000, maxRequests: 10 }), project({ id: t.projectId })];
    const admitted = await other.admit(admission(subjects, { requestId: randomUUID(), estimatedCostNanoUsd: 2_500 }));
    expect(admitted.ok).toBe(true);
    await otherDb.destroy();
    expect(await counters('token', t.id)).toEqual({ requests: 1, spent: 0, reserved: 2_500 });
    const [held] = await query<{ instance_id: string; deadline: string }>(
      'SELECT instance_id, deadline FROM limit_reservations WHERE subject_id = $1',
      [t.id],
    );
    expect(held?.instance_id).toBe('dead-host:1:ffff');

    const limiter = a.server.runtime.countedLimiter as StoreCountedLimiter;
    // Before the deadline the sweep leaves it: the request may still be running.
    expect(await limiter.sweep(Number(held?.deadline) - 1)).toBe(0);
    expect(await limiter.sweep(Date.now() + RESERVATION_TTL_MS)).toBe(1);
    expect(await counters('token', t.id)).toEqual({ requests: 1, spent: 2_500, reserved: 0 });
    expect(await reservations(t.id)).toBe(0);
    // Settled once: sweeping again, or the dead instance's settlement arriving late, changes nothing.
    expect(await limiter.sweep(Date.now() + RESERVATION_TTL_MS)).toBe(0);
    expect(
      await new LimitCountersRepo(a.server.runtime.db).settle(
        admitted.ok ? admitted.ticket.requestId : '',
        9,
        Date.now(),
      ),
    ).toBe(0);
    expect(await counters('token', t.id)).toEqual({ requests: 1, spent: 2_500, reserved: 0 });
    // The cap counts the dead instance's request: 9 more, not 10.
    const more = await Promise.all(Array.from({ length: 12 }, () => chat(a, t.token)));
    expect(tally(more)).toMatchObject({ ok: 9, refused: 3, codes: ['request_limit_reached'] });

    // A token deleted (token retention does) loses its counters at the next hourly prune.
    await query('DELETE FROM tokens WHERE id = $1', [t.id]);
    expect(await counters('token', t.id)).toBeDefined();
    await limiter.sweep(Date.now() + 2 * 3_600_000);
    expect(await counters('token', t.id)).toBeUndefined();
  });

  it('a settlement the database could not take is sent again once it answers', async (ctx) => {
    if (!set.up) return ctx.skip();
    const { fwd: cut, url } = await cuttableDatabase(set.dbUrl);
    try {
      const a = await start({ DATABASE_URL: url, DATABASE_QUERY_TIMEOUT_MS: '1000' });
      const t = await issue(a, { budget_usd: 1, budget_period: 'total' });
      // Admitted (and its estimate reserved) while the database answers; it ends after the cut.
      const held = chat(a, t.token, { [MOCK_HEADERS.hold]: '1' });
      await until(() => set.mock.stats().held === 1);
      expect(await reservations(t.id)).toBe(1);
      const reserved = (await counters('token', t.id))?.reserved as number;
      expect(reserved).toBeGreaterThan(0);
      cut.refuse();
      expect(set.mock.release()).toBe(1);
      expect(await held).toEqual({ status: 200 });
      // Nothing settled while it is cut: the reservation still holds the estimate.
      expect(await counters('token', t.id)).toMatchObject({ spent: 0, reserved });
      cut.resume();
      await until(async () => (await reservations(t.id)) === 0);
      await until(async () => (await records(t.id)).length === 1);
      const [record] = await records(t.id);
      expect(await counters('token', t.id)).toEqual({
        requests: 1,
        spent: Number(record?.cost_nano_usd),
        reserved: 0,
      });
    } finally {
      await cut.close();
    }
  });

  it('a lifetime budget lifted and set again reads the spend made meanwhile from the usage rollups', async (ctx) => {
    if (!set.up) return ctx.skip();
    const a = await start();
    // The cap keeps the token counted in the database while the budget is lifted.
    const t = await issue(a, { budget_usd: 1, budget_period: 'total', max_requests: 100 });
    expect(await chat(a, t.token)).toEqual({ status: 200 });
    expect((await a.manage('PATCH', `/tokens/${t.id}`, { budget_usd: null })).status).toBe(200);
    await until(async () => (await chat(a, t.token)).status === 200 && (await counters('token', t.id))?.requests === 3);
    await until(async () => (await records(t.id)).length === 3);
    const spentBefore = (await counters('token', t.id))?.spent as number;
    expect((await a.manage('PATCH', `/tokens/${t.id}`, { budget_usd: 1, budget_period: 'total' })).status).toBe(200);
    await until(async () => (await chat(a, t.token)).status === 200);
    await until(async () => (await records(t.id)).length === 4 && (await reservations(t.id)) === 0);
    const all = (await records(t.id)).reduce((sum, r) => sum + Number(r.cost_nano_usd ?? 0), 0);
    // Without the re-read the two requests of the lifted period would be missing from it.
    expect(spentBefore).toBeLessThan(all);
    expect((await counters('token', t.id))?.spent).toBe(all);
  });

  it('a token without caps or a lifetime budget costs no database call; a limited one gets 503 while the database is down', async (ctx) => {
    if (!set.up) return ctx.skip();
    const { fwd: cut, url } = await cuttableDatabase(set.dbUrl);
    try {
      const a = await start({ DATABASE_URL: url, DATABASE_QUERY_TIMEOUT_MS: '1000' });
      const limited = await issue(a, { max_requests: 100 });
      const free = await issue(a, { requests_per_minute: 1000 });
      // Both cached: the authenticator serves them while the database is gone.
      expect(await chat(a, limited.token)).toEqual({ status: 200 });
      expect(await chat(a, free.token)).toEqual({ status: 200 });
      cut.refuse();
      expect(await chat(a, free.token)).toEqual({ status: 200 });
      expect(await chat(a, limited.token)).toEqual({ status: 503, code: 'store_unavailable', retryAfter: '1' });
      cut.resume();
      await until(async () => (await chat(a, limited.token)).status === 200);
      expect(await counters('token', limited.id)).toMatchObject({ requests: 2 });
      expect(await counters('token', free.id)).toBeUndefined();
    } finally {
      await cut.close();
    }
  });
});
