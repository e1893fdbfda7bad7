import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcra } from '../../src/limits/gcra.js';
import { type Admission, type AdmitResult, type Limiter, periodOf, type Ticket } from '../../src/limits/limits.js';
import { admission, LIMITER_BACKENDS, limits, project, type TestLimiters } from '../helpers/limiters.js';

/**
 * The limiter contract, held by every backend (memory and Redis): the same requests give the same
 * decisions, rate headers, refusals and state. Where the memory tests drive the clock, the Redis
 * ones (on the server's clock) assert relative to the admission time the ticket reports.
 */

/** The last minute of January (UTC) for the memory backend: a day and a month end one minute later. */
const T0 = Date.UTC(2026, 0, 31, 23, 59);
const MIN = 60_000;

function ticketOf(r: AdmitResult): Ticket {
  if (!r.ok) throw new Error(`refused: ${r.refusal.kind}`);
  return r.ticket;
}

describe.each(LIMITER_BACKENDS)('limiter contract: %s', (name, makeBackend) => {
  let b: TestLimiters | undefined;
  beforeEach(async () => {
    b = await makeBackend();
    b?.clock?.set(T0);
  });
  afterEach(async () => {
    await b?.close();
  });

  /** A limiter whose store reports `spent` for every subject and period, recording each read. */
  function setup(spent = 0) {
    const reads: Array<[string, number]> = [];
    const limiter = (b as TestLimiters).make(async (s, from) => {
      reads.push([`${s.kind}:${s.id}`, from]);
      return spent;
    });
    return { limiter, reads };
  }
  const admit = async (l: Limiter, a: Admission) => l.admit(a);
  /** The token's state (tagged by the project when admitted with it: pass `withProject`), or the project's. */
  const inspect = (l: Limiter, kind: 'token' | 'project' = 'token', withProject = kind === 'project') =>
    l.inspect(kind, kind === 'token' ? 'tok' : 'proj', withProject ? 'proj' : undefined);
  /** Tests that move the clock are declared for the memory backend only (Redis runs on its server's). */
  const clocked = name === 'memory';
  /**
   * postgres-counted decides caps and lifetime budgets in the database and everything else in each
   * instance's memory, first: a request the database refuses has used its instance's rate window,
   * in-flight slots are per instance, and requests and spend of a subject without a cap or a
   * lifetime budget are not counted in the database (no call for it). The tests of those things
   * are declared for the other backends.
   */
  const allInOneStore = name !== 'postgres-counted';

  it('a budget is seeded from the store once per period: concurrent first admissions share it', async (ctx) => {
    if (!b) return ctx.skip();
    const { limiter, reads } = setup(5);
    const budgeted = [limits({ budgetNanoUsd: 100, budgetPeriod: 'day' })];
    const [first, second] = await Promise.all([
      admit(limiter, admission(budgeted, { estimatedCostNanoUsd: 1 })),
      admit(limiter, admission(budgeted, { estimatedCostNanoUsd: 1 })),
    ]);
    const t = ticketOf(first as AdmitResult);
    expect((second as AdmitResult).ok).toBe(true);
    const start = periodOf('day', t.admittedAt).start;
    expect(reads.length).toBeGreaterThanOrEqual(1);
    for (const r of reads) expect(r).toEqual(['token:tok', start]);
    const seen = reads.length;
    expect((await admit(limiter, admission(budgeted))).ok).toBe(true);
    expect(reads).toHaveLength(seen);
    // The seed counts once, however many admissions brought it.
    expect((await inspect(limiter))?.budgets[periodOf('day', t.admittedAt).key]).toEqual({
      spentNanoUsd: 5,
      reservedNanoUsd: 2,
    });
  });

  it('a failed budget read rejects the admission, charges nothing, and is retried by the next one', async (ctx) => {
    if (!b) return ctx.skip();
    let fail = true;
    const limiter = b.make(async () => {
      if (fail) throw new Error('store down');
      return 0;
    });
    const a = admission([limits({ budgetNanoUsd: 100, maxRequests: 5 })]);
    await expect(admit(limiter, a)).rejects.toThrow('store down');
    expect(await inspect(limiter)).toBeUndefined();
    fail = false;
    expect((await admit(limiter, a)).ok).toBe(true);
    expect((await inspect(limiter))?.requests).toBe(1);
  });

  it('settling is idempotent by request id: a second settle charges and releases nothing', async (ctx) => {
    if (!b) return ctx.skip();
    const { limiter } = setup(0);
    const s = [limits({ budgetNanoUsd: 1000, maxConcurrent: 2, tokensPerMinute: 1000 })];
    const t = ticketOf(await admit(limiter, admission(s, { estimatedCostNanoUsd: 100, estimatedTokens: 100 })));
    const held = ticketOf(await admit(limiter, admission(s, { estimatedCostNanoUsd: 100, estimatedTokens: 100 })));
    limiter.settle(t, 50, 40);
    const once = await inspect(limiter);
    limiter.settle(t, 50, 40);
    expect(await inspect(limiter)).toEqual(once);
    expect(once).toMatchObject({ inFlight: 1, budgets: { total: { spentNanoUsd: 40, reservedNanoUsd: 100 } } });
    limiter.settle(held, 100, 100);
    expect(await inspect(limiter)).toMatchObject({ budgets: { total: { spentNanoUsd: 140, reservedNanoUsd: 0 } } });
    expect((await inspect(limiter))?.inFlight).toBeUndefined();
  });

  describe('max_requests', () => {
    it('is exact, counting on from the persisted request_count', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const s = limits({ maxRequests: 10, requestCount: 7 });
      const out: boolean[] = [];
      for (let i = 0; i < 5; i++) out.push((await admit(limiter, admission([s]))).ok);
      expect(out).toEqual([true, true, true, false, false]);
      expect((await inspect(limiter))?.requests).toBe(10);
    });

    if (allInOneStore)
      it('a persisted count above the held one raises it (another writer counted more)', async (ctx) => {
        if (!b) return ctx.skip();
        const { limiter } = setup();
        await admit(limiter, admission([limits({ requestCount: 0 })]));
        await admit(limiter, admission([limits({ requestCount: 8 })]));
        expect((await inspect(limiter))?.requests).toBe(9);
      });

    it('refuses with kind, limit and remaining 0, and no time after which a retry helps', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const r = await admit(limiter, admission([limits({ maxRequests: 2, requestCount: 2 })]));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.refusal).toEqual({
        kind: 'requests',
        subject: limits({ maxRequests: 2, requestCount: 2 }),
        limit: 2,
        remaining: 0,
      });
    });
  });

  describe('requests_per_minute (GCRA)', () => {
    it('admits the burst and refuses with the Retry-After the first request set', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const s = [limits({ requestsPerMinute: 3 })];
      const tickets: Ticket[] = [];
      const rates = [];
      for (let i = 0; i < 3; i++) {
        const r = await admit(limiter, admission(s));
        tickets.push(ticketOf(r));
        rates.push(r.rate);
      }
      // Each reset is the GCRA's from the moment the backend admitted (T0 in memory: 20, 40, 60 s).
      let tat: number | undefined;
      expect(rates).toEqual(
        tickets.map((t) => {
          const d = gcra(tat, t.admittedAt, 3, MIN, 1);
          tat = d.tat;
          return { limitRequests: 3, remainingRequests: d.remaining, resetRequestsMs: d.resetMs };
        }),
      );
      const first = (tickets[0] as Ticket).admittedAt;
      const refused = await admit(limiter, admission(s));
      const after = await b.now();
      expect(refused).toMatchObject({
        ok: false,
        refusal: { kind: 'requests_per_minute', limit: 3, remaining: 0 },
        rate: { limitRequests: 3, remainingRequests: 0 },
      });
      if (refused.ok) return;
      // One request comes back 20 s after the first was admitted.
      const retry = refused.refusal.retryAfterMs as number;
      expect(retry).toBeLessThanOrEqual(20_000);
      expect(retry).toBeGreaterThanOrEqual(first + 20_000 - after);
    });

    if (clocked) {
      it('admits again exactly at the Retry-After (clock driven)', async (ctx) => {
        if (!b) return ctx.skip();
        const { limiter } = setup();
        const s = [limits({ requestsPerMinute: 3 })];
        for (let i = 0; i < 3; i++) await admit(limiter, admission(s));
        b.clock?.set(T0 + 19_999);
        expect((await admit(limiter, admission(s))).ok).toBe(false);
        b.clock?.set(T0 + 20_000);
        expect((await admit(limiter, admission(s))).ok).toBe(true);
      });
    }

    it('the stored TAT is the one gcra.ts computes, with fractional intervals too', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      let tat: number | undefined;
      for (const cost of [7, 3, 11, 1, 5]) {
        const r = await admit(limiter, admission([limits({ tokensPerMinute: 37 })], { estimatedTokens: cost }));
        const d = gcra(tat, ticketOf(r).admittedAt, 37, MIN, cost);
        expect(r.rate).toEqual({ limitTokens: 37, remainingTokens: d.remaining, resetTokensMs: d.resetMs });
        tat = d.tat;
        expect((await inspect(limiter))?.tokensTat).toBe(tat);
      }
    });
  });

  describe('tokens_per_minute (GCRA)', () => {
    it('charges the estimate, refuses what does not fit, and settling on the actual use refunds the rest', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const s = [limits({ tokensPerMinute: 1000 })];
      const first = await admit(limiter, admission(s, { estimatedTokens: 600 }));
      expect(first.rate).toEqual({ limitTokens: 1000, remainingTokens: 400, resetTokensMs: 36_000 });
      const t0 = ticketOf(first).admittedAt;
      const refused = await admit(limiter, admission(s, { estimatedTokens: 600 }));
      const after = await b.now();
      expect(refused).toMatchObject({ ok: false, refusal: { kind: 'tokens_per_minute', limit: 1000, remaining: 400 } });
      if (refused.ok) return;
      // 200 more tokens refill 12 s after the first admission; the window is full 36 s after it.
      expect(refused.refusal.retryAfterMs).toBeLessThanOrEqual(12_000);
      expect(refused.refusal.retryAfterMs).toBeGreaterThanOrEqual(t0 + 12_000 - after);
      expect(refused.refusal.resetMs).toBeLessThanOrEqual(36_000);
      // The first request used 100 tokens: 500 come back, so 600 fit again at once.
      limiter.settle(ticketOf(first), 100, 0);
      expect((await inspect(limiter))?.tokensTat).toBe(t0 + 6_000);
      expect((await admit(limiter, admission(s, { estimatedTokens: 600 }))).ok).toBe(true);
    });

    it('settling above the estimate charges the difference', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const s = [limits({ tokensPerMinute: 1000 })];
      const t = ticketOf(await admit(limiter, admission(s, { estimatedTokens: 100 })));
      limiter.settle(t, 900, 0);
      expect((await inspect(limiter))?.tokensTat).toBe(t.admittedAt + 54_000);
      expect((await admit(limiter, admission(s, { estimatedTokens: 200 }))).ok).toBe(false);
    });
  });

  describe('max_concurrent', () => {
    it('takes a slot on admission and gives it back on settle', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const s = [limits({ maxConcurrent: 2 })];
      const a = ticketOf(await admit(limiter, admission(s)));
      ticketOf(await admit(limiter, admission(s)));
      expect(await admit(limiter, admission(s))).toMatchObject({
        ok: false,
        refusal: { kind: 'max_concurrent', limit: 2, remaining: 0, retryAfterMs: 1_000 },
      });
      expect((await inspect(limiter))?.inFlight).toBe(2);
      limiter.settle(a, 10, 0);
      expect((await inspect(limiter))?.inFlight).toBe(1);
      expect((await admit(limiter, admission(s))).ok).toBe(true);
    });

    it('the ticket marks exactly the subjects whose slot it took, whatever the caps are when it settles', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      // One subject object whose cap changes in place between admission and settlement.
      const p = project();
      const uncapped = ticketOf(await admit(limiter, admission([limits(), p])));
      expect(uncapped.concurrent).toBe(0);
      p.maxConcurrent = 1;
      const capped = ticketOf(await admit(limiter, admission([limits(), p])));
      expect(capped.concurrent).toBe(0b10);
      // Settling the request admitted before the cap must not free the slot the later one holds.
      limiter.settle(uncapped, 10, 0);
      expect((await inspect(limiter, 'project'))?.inFlight).toBe(1);
      expect((await admit(limiter, admission([limits(), p]))).ok).toBe(false);
      // The cap is lifted: the slot taken under it still comes back.
      p.maxConcurrent = null;
      limiter.settle(capped, 10, 0);
      expect((await inspect(limiter, 'project'))?.inFlight).toBeUndefined();
      const t = ticketOf(await admit(limiter, admission([limits({ maxConcurrent: 1 }), project()])));
      expect(t.concurrent).toBe(0b01);
    });
  });

  describe('budgets', () => {
    it('total: seeded from the lifetime spend, reserves the estimate, settles on the actual cost', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter, reads } = setup(900);
      const s = [limits({ budgetNanoUsd: 1000 })];
      const a = ticketOf(await admit(limiter, admission(s, { estimatedCostNanoUsd: 60 })));
      expect(reads).toEqual([['token:tok', 0]]);
      expect((await inspect(limiter))?.budgets).toEqual({ total: { spentNanoUsd: 900, reservedNanoUsd: 60 } });
      // 960 committed: another 60 would pass the cap. A lifetime budget never comes back: no retry time.
      const refused = await admit(limiter, admission(s, { estimatedCostNanoUsd: 60 }));
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.refusal).toEqual({ kind: 'budget', subject: s[0], limit: 1000, remaining: 40 });
      limiter.settle(a, 10, 30);
      expect((await inspect(limiter))?.budgets).toEqual({ total: { spentNanoUsd: 930, reservedNanoUsd: 0 } });
      expect((await admit(limiter, admission(s, { estimatedCostNanoUsd: 60 }))).ok).toBe(true);
    });

    it('day: refused until the period ends, with the time to its end as Retry-After', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup(0);
      const s = [limits({ budgetNanoUsd: 100, budgetPeriod: 'day' })];
      const cost = { estimatedCostNanoUsd: 50 };
      const a = ticketOf(await admit(limiter, admission(s, cost)));
      ticketOf(await admit(limiter, admission(s, cost)));
      expect(a.periods).toEqual([periodOf('day', a.admittedAt).key]);
      const refused = await admit(limiter, admission(s, cost));
      const after = await b.now();
      expect(refused).toMatchObject({ ok: false, refusal: { kind: 'budget', limit: 100, remaining: 0 } });
      if (refused.ok) return;
      const end = periodOf('day', a.admittedAt).end as number;
      expect(refused.refusal.retryAfterMs).toBe(refused.refusal.resetMs);
      expect(refused.refusal.retryAfterMs).toBeLessThanOrEqual(end - a.admittedAt);
      expect(refused.refusal.retryAfterMs).toBeGreaterThanOrEqual(end - after);
    });

    if (clocked) {
      it.each([
        ['day', 'day:2026-01-31', 'day:2026-02-01', Date.UTC(2026, 0, 31)],
        ['month', 'month:2026-01', 'month:2026-02', Date.UTC(2026, 0, 1)],
      ] as const)(
        '%s: a settle after midnight does not touch the new period (clock driven)',
        async (period, old, next, start) => {
          if (!b) throw new Error('the memory backend is always there');
          const { limiter, reads } = setup(0);
          const s = [limits({ budgetNanoUsd: 100, budgetPeriod: period })];
          const cost = { estimatedCostNanoUsd: 50 };
          const a = ticketOf(await admit(limiter, admission(s, cost)));
          const c1 = ticketOf(await admit(limiter, admission(s, cost)));
          expect(a.periods).toEqual([old]);
          expect(await admit(limiter, admission(s, cost))).toMatchObject({
            ok: false,
            refusal: { kind: 'budget', limit: 100, remaining: 0, retryAfterMs: 60_000, resetMs: 60_000 },
          });
          // Past midnight the new period is seeded from the store and has room again.
          b.clock?.set(T0 + 90_000);
          const c = ticketOf(await admit(limiter, admission(s, cost)));
          expect(c.periods).toEqual([next]);
          expect(reads.map(([, from]) => from)).toEqual([start, Date.UTC(2026, 1, 1)]);
          limiter.settle(a, 10, 40);
          limiter.settle(c1, 10, 40);
          expect((await inspect(limiter))?.budgets).toEqual({
            [old]: { spentNanoUsd: 80, reservedNanoUsd: 0 },
            [next]: { spentNanoUsd: 0, reservedNanoUsd: 50 },
          });
        },
      );
    }

    if (allInOneStore)
      it('spend counts in every period the subject has state in, so a budget moved between periods keeps it', async (ctx) => {
        if (!b) return ctx.skip();
        const { limiter } = setup(0);
        const total = limits({ budgetNanoUsd: 1000 });
        const day = limits({ budgetNanoUsd: 1000, budgetPeriod: 'day' });
        const a = ticketOf(await admit(limiter, admission([total], { estimatedCostNanoUsd: 50 })));
        const d = ticketOf(await admit(limiter, admission([day], { estimatedCostNanoUsd: 50 })));
        limiter.settle(a, 10, 20);
        limiter.settle(d, 10, 30);
        // Each reservation is released where it was made; both costs count in both periods.
        expect((await inspect(limiter))?.budgets).toEqual({
          total: { spentNanoUsd: 50, reservedNanoUsd: 0 },
          [periodOf('day', d.admittedAt).key]: { spentNanoUsd: 50, reservedNanoUsd: 0 },
        });
      });
  });

  describe('one atomic step over token and project', () => {
    it("a request the project refuses charges nothing on the token's limits", async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const token = limits({
        maxRequests: 100,
        requestsPerMinute: 100,
        maxConcurrent: 10,
        tokensPerMinute: 10_000,
        budgetNanoUsd: 1000,
      });
      ticketOf(
        await admit(limiter, admission([token, project({ requestsPerMinute: 1 })], { estimatedCostNanoUsd: 5 })),
      );
      const before = await inspect(limiter, 'token', true);
      expect(before).toMatchObject({ requests: 1, inFlight: 1, budgets: { total: { reservedNanoUsd: 5 } } });
      const refused = await admit(
        limiter,
        admission([token, project({ requestsPerMinute: 1 })], { estimatedCostNanoUsd: 5 }),
      );
      expect(refused).toMatchObject({
        ok: false,
        refusal: { kind: 'requests_per_minute', subject: { kind: 'project' } },
      });
      expect(await inspect(limiter, 'token', true)).toEqual(before);
    });

    if (allInOneStore)
      it("refused by a project's max_requests, a fresh token holds no state at all", async (ctx) => {
        if (!b) return ctx.skip();
        const { limiter } = setup();
        const r = await admit(
          limiter,
          admission([limits({ requestsPerMinute: 5 }), project({ maxRequests: 3, requestCount: 3 })]),
        );
        expect(r).toMatchObject({ ok: false, refusal: { kind: 'requests', limit: 3, subject: { kind: 'project' } } });
        expect(await inspect(limiter, 'token', true)).toBeUndefined();
      });

    it('rate headers describe the limit closest to running out, of whichever subject', async (ctx) => {
      if (!b) return ctx.skip();
      const { limiter } = setup();
      const r = await admit(
        limiter,
        admission(
          [
            limits({ requestsPerMinute: 10, tokensPerMinute: 50 }),
            project({ requestsPerMinute: 3, tokensPerMinute: 1000 }),
          ],
          { estimatedTokens: 20 },
        ),
      );
      expect(r.rate).toEqual({
        limitRequests: 3,
        remainingRequests: 2,
        resetRequestsMs: 20_000,
        limitTokens: 50,
        remainingTokens: 30,
        resetTokensMs: 24_000,
      });
    });
  });

  // Only a shared backend (Redis) has several instances on one state; in memory each is its own.
  if (name !== 'memory')
    describe('instances sharing the backend', () => {
      it('two instances, 500 concurrent admissions against max_requests 100: exactly 100 admitted', async (ctx) => {
        if (!b) return ctx.skip();
        const one = b.make(async () => 0);
        const two = b.make(async () => 0);
        const s = [limits({ maxRequests: 100 }), project({ maxConcurrent: 1000 })];
        const out = await Promise.all(Array.from({ length: 500 }, (_, i) => admit(i % 2 ? one : two, admission(s))));
        expect(out.filter((r) => r.ok)).toHaveLength(100);
        expect(out.filter((r) => !r.ok && r.refusal.kind === 'requests')).toHaveLength(400);
        expect((await inspect(one, 'token', true))?.requests).toBe(100);
        // In-flight slots are per instance in postgres-counted.
        if (allInOneStore) expect((await inspect(two, 'project'))?.inFlight).toBe(100);
      });
    });
});
