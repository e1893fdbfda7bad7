import { beforeEach, describe, expect, it } from 'vitest';
import type { Admission, AdmitResult, BudgetPeriod, SubjectLimits, Ticket } from './limits.js';
import { MemoryLimiter } from './memory-limiter.js';

/** The last minute of January (UTC): a day and a month end one minute later. */
const T0 = Date.UTC(2026, 0, 31, 23, 59);

const limits = (over: Partial<SubjectLimits> = {}): SubjectLimits => ({
  kind: 'token',
  id: 'tok',
  maxRequests: null,
  requestCount: 0,
  requestsPerMinute: null,
  maxConcurrent: null,
  tokensPerMinute: null,
  budgetMicroUsd: null,
  budgetPeriod: 'total',
  ...over,
});
const project = (over: Partial<SubjectLimits> = {}) => limits({ kind: 'project', id: 'proj', ...over });

/** The limiters' clock: each test starts at T0 and moves it. */
let now = T0;
beforeEach(() => {
  now = T0;
});
const clock = () => now;

/** A limiter whose store reports `spent` for every subject and period, recording each read. */
function setup(spent = 0) {
  const reads: Array<[string, number]> = [];
  const limiter = new MemoryLimiter(async (s, from) => {
    reads.push([`${s.kind}:${s.id}`, from]);
    return spent;
  }, clock);
  return { limiter, reads };
}

let ids = 0;
const admission = (subjects: SubjectLimits[], over: Partial<Admission> = {}): Admission => ({
  requestId: `req-${++ids}`,
  subjects,
  estimatedTokens: 10,
  estimatedCostMicroUsd: 0,
  ...over,
});

/** The synchronous fast path: fails the test if the limiter answered with a promise. */
function admitSync(l: MemoryLimiter, a: Admission): AdmitResult {
  const r = l.admit(a);
  if (r instanceof Promise) throw new Error('expected a synchronous decision');
  return r;
}

function ticketOf(r: AdmitResult): Ticket {
  if (!r.ok) throw new Error(`refused: ${r.refusal.kind}`);
  return r.ticket;
}

describe('MemoryLimiter', () => {
  it('decides synchronously; only a budget not yet seeded waits for the store, once for concurrent requests', async () => {
    const { limiter, reads } = setup(5);
    expect(admitSync(limiter, admission([limits()])).ok).toBe(true);
    const budgeted = [limits({ budgetMicroUsd: 100, budgetPeriod: 'day' })];
    const first = limiter.admit(admission(budgeted));
    const second = limiter.admit(admission(budgeted));
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBeInstanceOf(Promise);
    expect([(await first).ok, (await second).ok]).toEqual([true, true]);
    expect(reads).toEqual([['token:tok', Date.UTC(2026, 0, 31)]]);
    expect(admitSync(limiter, admission(budgeted)).ok).toBe(true);
    expect(reads).toHaveLength(1);
  });

  it('a failed budget read rejects the admission, charges nothing, and is retried by the next one', async () => {
    let fail = true;
    const limiter = new MemoryLimiter(async () => {
      if (fail) throw new Error('store down');
      return 0;
    }, clock);
    const a = admission([limits({ budgetMicroUsd: 100, maxRequests: 5 })]);
    await expect(limiter.admit(a)).rejects.toThrow('store down');
    expect(await limiter.inspect('token', 'tok')).toBeUndefined();
    fail = false;
    expect((await limiter.admit(a)).ok).toBe(true);
    expect((await limiter.inspect('token', 'tok'))?.requests).toBe(1);
  });

  describe('max_requests', () => {
    it('is exact, counting on from the persisted request_count', async () => {
      const { limiter } = setup();
      const s = limits({ maxRequests: 10, requestCount: 7 });
      const out = Array.from({ length: 5 }, () => admitSync(limiter, admission([s])).ok);
      expect(out).toEqual([true, true, true, false, false]);
      expect((await limiter.inspect('token', 'tok'))?.requests).toBe(10);
    });

    it('a persisted count above the memory one raises it (another writer counted more)', async () => {
      const { limiter } = setup();
      admitSync(limiter, admission([limits({ requestCount: 0 })]));
      admitSync(limiter, admission([limits({ requestCount: 8 })]));
      expect((await limiter.inspect('token', 'tok'))?.requests).toBe(9);
    });

    it('refuses with kind, limit and remaining 0, and no time after which a retry helps', async () => {
      const { limiter } = setup();
      const r = admitSync(limiter, admission([limits({ maxRequests: 2, requestCount: 2 })]));
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
    it('admits the burst, refuses with the exact Retry-After, admits again at that moment', async () => {
      const { limiter } = setup();
      const s = [limits({ requestsPerMinute: 3 })];
      const rates = [0, 1, 2].map(() => {
        const r = admitSync(limiter, admission(s));
        expect(r.ok).toBe(true);
        return r.rate;
      });
      expect(rates).toEqual([
        { limitRequests: 3, remainingRequests: 2, resetRequestsMs: 20_000 },
        { limitRequests: 3, remainingRequests: 1, resetRequestsMs: 40_000 },
        { limitRequests: 3, remainingRequests: 0, resetRequestsMs: 60_000 },
      ]);
      const refused = admitSync(limiter, admission(s));
      expect(refused).toMatchObject({
        ok: false,
        refusal: { kind: 'requests_per_minute', limit: 3, remaining: 0, retryAfterMs: 20_000, resetMs: 60_000 },
        rate: { limitRequests: 3, remainingRequests: 0 },
      });
      now = T0 + 19_999;
      expect(admitSync(limiter, admission(s)).ok).toBe(false);
      now = T0 + 20_000;
      expect(admitSync(limiter, admission(s)).ok).toBe(true);
    });
  });

  describe('tokens_per_minute (GCRA)', () => {
    it('charges the estimate, refuses what does not fit, and settling on the actual use refunds the rest', async () => {
      const { limiter } = setup();
      const s = [limits({ tokensPerMinute: 1000 })];
      const first = admitSync(limiter, admission(s, { estimatedTokens: 600 }));
      expect(first.rate).toEqual({ limitTokens: 1000, remainingTokens: 400, resetTokensMs: 36_000 });
      const refused = admitSync(limiter, admission(s, { estimatedTokens: 600 }));
      expect(refused).toMatchObject({
        ok: false,
        refusal: { kind: 'tokens_per_minute', limit: 1000, remaining: 400, retryAfterMs: 12_000, resetMs: 36_000 },
      });
      // The first request used 100 tokens: 500 come back, so 600 fit again at once.
      limiter.settle(ticketOf(first), 100, 0);
      expect((await limiter.inspect('token', 'tok'))?.tokensTat).toBe(T0 + 6_000);
      expect(admitSync(limiter, admission(s, { estimatedTokens: 600 })).ok).toBe(true);
    });

    it('settling above the estimate charges the difference', async () => {
      const { limiter } = setup();
      const s = [limits({ tokensPerMinute: 1000 })];
      limiter.settle(ticketOf(admitSync(limiter, admission(s, { estimatedTokens: 100 }))), 900, 0);
      expect((await limiter.inspect('token', 'tok'))?.tokensTat).toBe(T0 + 54_000);
      expect(admitSync(limiter, admission(s, { estimatedTokens: 200 })).ok).toBe(false);
    });
  });

  describe('max_concurrent', () => {
    it('takes a slot on admission and gives it back on settle', async () => {
      const { limiter } = setup();
      const s = [limits({ maxConcurrent: 2 })];
      const a = ticketOf(admitSync(limiter, admission(s)));
      ticketOf(admitSync(limiter, admission(s)));
      expect(admitSync(limiter, admission(s))).toMatchObject({
        ok: false,
        refusal: { kind: 'max_concurrent', limit: 2, remaining: 0, retryAfterMs: 1_000 },
      });
      expect((await limiter.inspect('token', 'tok'))?.inFlight).toBe(2);
      limiter.settle(a, 10, 0);
      expect((await limiter.inspect('token', 'tok'))?.inFlight).toBe(1);
      expect(admitSync(limiter, admission(s)).ok).toBe(true);
    });

    it('the ticket marks exactly the subjects whose slot it took, whatever the caps are when it settles', async () => {
      const { limiter } = setup();
      // One subject object whose cap changes in place between admission and settlement.
      const p = project();
      const uncapped = ticketOf(admitSync(limiter, admission([limits(), p])));
      expect(uncapped.concurrent).toBe(0);
      p.maxConcurrent = 1;
      const capped = ticketOf(admitSync(limiter, admission([limits(), p])));
      expect(capped.concurrent).toBe(0b10);
      // Settling the request admitted before the cap must not free the slot the later one holds.
      limiter.settle(uncapped, 10, 0);
      expect((await limiter.inspect('project', 'proj'))?.inFlight).toBe(1);
      expect(admitSync(limiter, admission([limits(), p])).ok).toBe(false);
      // The cap is lifted: the slot taken under it still comes back.
      p.maxConcurrent = null;
      limiter.settle(capped, 10, 0);
      expect((await limiter.inspect('project', 'proj'))?.inFlight).toBeUndefined();
      expect(ticketOf(admitSync(limiter, admission([limits({ maxConcurrent: 1 }), project()]))).concurrent).toBe(0b01);
    });
  });

  describe('budgets', () => {
    it('total: seeded from the lifetime spend, reserves the estimate, settles on the actual cost', async () => {
      const { limiter, reads } = setup(900);
      const s = [limits({ budgetMicroUsd: 1000 })];
      const a = ticketOf(await limiter.admit(admission(s, { estimatedCostMicroUsd: 60 })));
      expect(reads).toEqual([['token:tok', 0]]);
      expect((await limiter.inspect('token', 'tok'))?.budgets).toEqual({
        total: { spentMicroUsd: 900, reservedMicroUsd: 60 },
      });
      // 960 committed: another 60 would pass the cap. A lifetime budget never comes back: no retry time.
      const refused = admitSync(limiter, admission(s, { estimatedCostMicroUsd: 60 }));
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.refusal).toEqual({ kind: 'budget', subject: s[0], limit: 1000, remaining: 40 });
      limiter.settle(a, 10, 30);
      expect((await limiter.inspect('token', 'tok'))?.budgets).toEqual({
        total: { spentMicroUsd: 930, reservedMicroUsd: 0 },
      });
      expect(admitSync(limiter, admission(s, { estimatedCostMicroUsd: 60 })).ok).toBe(true);
    });

    it.each<[BudgetPeriod, string, string, number]>([
      ['day', 'day:2026-01-31', 'day:2026-02-01', Date.UTC(2026, 0, 31)],
      ['month', 'month:2026-01', 'month:2026-02', Date.UTC(2026, 0, 1)],
    ])(
      '%s: refused until the period ends; a settle after midnight does not touch the new period',
      async (period, old, next, start) => {
        const { limiter, reads } = setup(0);
        const s = [limits({ budgetMicroUsd: 100, budgetPeriod: period })];
        const cost = { estimatedCostMicroUsd: 50 };
        const a = ticketOf(await limiter.admit(admission(s, cost)));
        const b = ticketOf(admitSync(limiter, admission(s, cost)));
        expect(a.periods).toEqual([old]);
        expect(admitSync(limiter, admission(s, cost))).toMatchObject({
          ok: false,
          refusal: { kind: 'budget', limit: 100, remaining: 0, retryAfterMs: 60_000, resetMs: 60_000 },
        });
        // Past midnight the new period is seeded from the store and has room again.
        now = T0 + 90_000;
        const c = ticketOf(await limiter.admit(admission(s, cost)));
        expect(c.periods).toEqual([next]);
        expect(reads.map(([, from]) => from)).toEqual([start, Date.UTC(2026, 1, 1)]);
        limiter.settle(a, 10, 40);
        limiter.settle(b, 10, 40);
        expect((await limiter.inspect('token', 'tok'))?.budgets).toEqual({
          [old]: { spentMicroUsd: 80, reservedMicroUsd: 0 },
          [next]: { spentMicroUsd: 0, reservedMicroUsd: 50 },
        });
      },
    );
    it('spend counts in every period the subject has state in, so a budget moved between periods keeps it', async () => {
      const { limiter } = setup(0);
      const total = limits({ budgetMicroUsd: 1000 });
      const day = limits({ budgetMicroUsd: 1000, budgetPeriod: 'day' });
      const a = ticketOf(await limiter.admit(admission([total], { estimatedCostMicroUsd: 50 })));
      const b = ticketOf(await limiter.admit(admission([day], { estimatedCostMicroUsd: 50 })));
      limiter.settle(a, 10, 20);
      limiter.settle(b, 10, 30);
      // Each reservation is released where it was made; both costs count in both periods.
      expect((await limiter.inspect('token', 'tok'))?.budgets).toEqual({
        total: { spentMicroUsd: 50, reservedMicroUsd: 0 },
        'day:2026-01-31': { spentMicroUsd: 50, reservedMicroUsd: 0 },
      });
    });
  });

  describe('one atomic step over token and project', () => {
    it("a request the project refuses charges nothing on the token's limits", async () => {
      const { limiter } = setup();
      const token = limits({
        maxRequests: 100,
        requestsPerMinute: 100,
        maxConcurrent: 10,
        tokensPerMinute: 10_000,
        budgetMicroUsd: 1000,
      });
      ticketOf(
        await limiter.admit(admission([token, project({ requestsPerMinute: 1 })], { estimatedCostMicroUsd: 5 })),
      );
      const before = await limiter.inspect('token', 'tok');
      expect(before).toMatchObject({ requests: 1, inFlight: 1, budgets: { total: { reservedMicroUsd: 5 } } });
      const refused = admitSync(
        limiter,
        admission([token, project({ requestsPerMinute: 1 })], { estimatedCostMicroUsd: 5 }),
      );
      expect(refused).toMatchObject({
        ok: false,
        refusal: { kind: 'requests_per_minute', subject: { kind: 'project' } },
      });
      expect(await limiter.inspect('token', 'tok')).toEqual(before);
    });

    it("refused by a project's max_requests, a fresh token holds no state at all", async () => {
      const { limiter } = setup();
      const r = admitSync(
        limiter,
        admission([limits({ requestsPerMinute: 5 }), project({ maxRequests: 3, requestCount: 3 })]),
      );
      expect(r).toMatchObject({ ok: false, refusal: { kind: 'requests', limit: 3, subject: { kind: 'project' } } });
      expect(await limiter.inspect('token', 'tok')).toBeUndefined();
    });

    it('rate headers describe the limit closest to running out, of whichever subject', async () => {
      const { limiter } = setup();
      const r = admitSync(
        limiter,
        admission(
          [
            limits({ requestsPerMinute: 10, tokensPerMinute: 50 }),
            project({ requestsPerMinute: 3, tokensPerMinute: 1000 }),
          ],
          {
            estimatedTokens: 20,
          },
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
});
