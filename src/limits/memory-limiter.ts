import { type Clock, systemClock } from '../shared/clock.js';
import { gcra, gcraAdjust } from './gcra.js';
import {
  type Admission,
  type AdmitResult,
  type BudgetUse,
  type Limiter,
  BUDGET_PERIODS as PERIODS,
  periodOf,
  type RateState,
  type Refusal,
  type SubjectLimits,
  type SubjectState,
  type Ticket,
} from './limits.js';

const MINUTE = 60_000;

/** Reads what a subject has spent since `periodStart` from the store (nano-dollars). */
export type SpentLoader = (subject: SubjectLimits, periodStart: number) => Promise<number>;

interface BudgetState {
  spent: number;
  reserved: number;
  /** The budget the last admission brought (nano-dollars); 0 until one has. */
  limit: number;
}

/**
 * In-memory limiter for one instance. Every check and charge for a request happens in one
 * synchronous step, so on one event loop limits are exact under any concurrency. Persisted
 * counters (request_count, spend in the period) seed the state and only ever raise it.
 */
export class MemoryLimiter implements Limiter {
  private readonly counts = new Map<string, number>();
  private readonly rpm = new Map<string, number>();
  /** Requests in flight per subject, counted for subjects with max_concurrent. */
  private readonly inFlight = new Map<string, number>();
  private readonly tpm = new Map<string, number>();
  private readonly budgets = new Map<string, BudgetState>();
  /** Subjects with budget state in some period (so settling skips the others cheaply). */
  private readonly budgeted = new Set<string>();
  private readonly seeding = new Map<string, Promise<void>>();

  constructor(
    private readonly loadSpent: SpentLoader,
    /** Time of the rate windows and budget periods (tests pass one they can move). */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Synchronous unless a budget's spend for its current period must first be read from the store. */
  admit(a: Admission): AdmitResult | Promise<AdmitResult> {
    // One time for seeding and deciding: the decision looks up the periods that were seeded.
    const now = this.clock();
    const seeding = this.seedBudgets(a, now);
    return seeding === undefined ? this.decide(a, now) : seeding.then(() => this.decide(a, now));
  }

  /**
   * How much of each budget in its current period is committed (spent + reserved) ÷ the budget
   * the subject's last admission brought, for the metrics. Read at scrape time, never per request.
   */
  budgetUse(): BudgetUse[] {
    const now = this.clock();
    const current = new Set(PERIODS.map((p) => periodOf(p, now).key));
    const out: BudgetUse[] = [];
    for (const [bkey, b] of this.budgets) {
      if (b.limit <= 0) continue;
      const bar = bkey.indexOf('|');
      if (!current.has(bkey.slice(bar + 1))) continue;
      const colon = bkey.indexOf(':');
      out.push({
        kind: bkey.slice(0, colon) as SubjectLimits['kind'],
        id: bkey.slice(colon + 1, bar),
        used: (b.spent + b.reserved) / b.limit,
      });
    }
    return out;
  }

  /** What this instance holds for a subject (see Limiter.inspect; the project id is not needed here). */
  async inspect(kind: SubjectLimits['kind'], id: string): Promise<SubjectState | undefined> {
    const key = `${kind}:${id}`;
    const state: SubjectState = { budgets: {} };
    const fields = [
      ['requests', this.counts],
      ['inFlight', this.inFlight],
      ['requestsTat', this.rpm],
      ['tokensTat', this.tpm],
    ] as const;
    let held = false;
    for (const [field, map] of fields) {
      const v = map.get(key);
      if (v === undefined) continue;
      state[field] = v;
      held = true;
    }
    const prefix = `${key}|`;
    for (const [bkey, b] of this.budgets) {
      if (!bkey.startsWith(prefix)) continue;
      state.budgets[bkey.slice(prefix.length)] = { spentNanoUsd: b.spent, reservedNanoUsd: b.reserved };
      held = true;
    }
    return held ? state : undefined;
  }

  /** Nothing to wait for: settlements are synchronous. */
  async close(): Promise<void> {}

  settle(ticket: Ticket, actualTokens: number, actualCost: number): void {
    // One process holds the ticket: its flag is the request id's settled state, at no lookup's cost.
    if (ticket.settled) return;
    ticket.settled = true;
    ticket.subjects.forEach((s, i) => {
      const key = keyOf(s);
      if (ticket.concurrent & (1 << i)) {
        const n = (this.inFlight.get(key) ?? 1) - 1;
        if (n <= 0) this.inFlight.delete(key);
        else this.inFlight.set(key, n);
      }
      if (s.tokensPerMinute !== null) {
        const tat = this.tpm.get(key);
        if (tat !== undefined) {
          this.tpm.set(key, gcraAdjust(tat, s.tokensPerMinute, MINUTE, actualTokens - ticket.estimatedTokens));
        }
      }
      if (!this.budgeted.has(key)) return;
      // The spend counts in every period state the subject has, budget set or not at the moment,
      // so a budget lifted and set again (or moved to another period) still knows it.
      for (const period of PERIODS) {
        const pkey = periodOf(period, ticket.admittedAt).key;
        const b = this.budgets.get(`${key}|${pkey}`);
        if (!b) continue;
        if (s.budgetNanoUsd !== null && pkey === ticket.periods[i]) {
          b.reserved = Math.max(0, b.reserved - ticket.estimatedCostNanoUsd);
        }
        b.spent += actualCost;
      }
    });
  }

  private decide(a: Admission, now: number): AdmitResult {
    const rate: RateState = {};
    const plans: Array<() => void> = [];
    const periods: string[] = [];
    let concurrent = 0;
    for (const s of a.subjects) {
      const key = keyOf(s);
      // Counted with or without a cap: the store's count lags, and a cap set later must see these.
      const used = Math.max(this.counts.get(key) ?? 0, s.requestCount);
      if (s.maxRequests !== null && used >= s.maxRequests) {
        return refuse({ kind: 'requests', subject: s, limit: s.maxRequests, remaining: 0 }, rate);
      }
      plans.push(() => this.counts.set(key, used + 1));
      if (s.requestsPerMinute !== null) {
        const d = gcra(this.rpm.get(key), now, s.requestsPerMinute, MINUTE, 1);
        tighten(rate, 'Requests', s.requestsPerMinute, d.remaining, d.resetMs);
        if (!d.allowed) {
          return refuse(
            {
              kind: 'requests_per_minute',
              subject: s,
              limit: s.requestsPerMinute,
              remaining: 0,
              retryAfterMs: d.retryAfterMs,
              resetMs: d.resetMs,
            },
            rate,
          );
        }
        plans.push(() => this.rpm.set(key, d.tat));
      }
      if (s.maxConcurrent !== null) {
        const n = this.inFlight.get(key) ?? 0;
        if (n >= s.maxConcurrent) {
          // One second is a guess: a slot comes back when one of the subject's requests ends.
          return refuse(
            { kind: 'max_concurrent', subject: s, limit: s.maxConcurrent, remaining: 0, retryAfterMs: 1_000 },
            rate,
          );
        }
        concurrent |= 1 << a.subjects.indexOf(s);
        plans.push(() => this.inFlight.set(key, n + 1));
      }
      if (s.tokensPerMinute !== null) {
        const d = gcra(this.tpm.get(key), now, s.tokensPerMinute, MINUTE, a.estimatedTokens);
        tighten(rate, 'Tokens', s.tokensPerMinute, d.remaining, d.resetMs);
        if (!d.allowed) {
          return refuse(
            {
              kind: 'tokens_per_minute',
              subject: s,
              limit: s.tokensPerMinute,
              remaining: d.remaining,
              retryAfterMs: d.retryAfterMs,
              resetMs: d.resetMs,
            },
            rate,
          );
        }
        plans.push(() => this.tpm.set(key, d.tat));
      }
      const period = periodOf(s.budgetPeriod, now);
      periods.push(period.key);
      if (s.budgetNanoUsd !== null) {
        const b = this.budgets.get(`${key}|${period.key}`) as BudgetState;
        const committed = b.spent + b.reserved;
        if (committed >= s.budgetNanoUsd || committed + a.estimatedCostNanoUsd > s.budgetNanoUsd) {
          return refuse(
            {
              kind: 'budget',
              subject: s,
              limit: s.budgetNanoUsd,
              remaining: Math.max(0, s.budgetNanoUsd - committed),
              // A day or month budget comes back with the next period; a lifetime one never does.
              ...(period.end === undefined ? {} : { retryAfterMs: period.end - now, resetMs: period.end - now }),
            },
            rate,
          );
        }
        const limit = s.budgetNanoUsd;
        plans.push(() => {
          b.reserved += a.estimatedCostNanoUsd;
          b.limit = limit;
        });
      }
    }
    // Every limit passed: charge them all in the same synchronous step.
    for (const apply of plans) apply();
    return {
      ok: true,
      rate,
      ticket: {
        requestId: a.requestId,
        subjects: a.subjects,
        estimatedTokens: a.estimatedTokens,
        estimatedCostNanoUsd: a.estimatedCostNanoUsd,
        periods,
        admittedAt: now,
        concurrent,
        settled: false,
      },
    };
  }

  /**
   * Loads each budget's spend for its current period once (concurrent requests share the read).
   * Undefined when every budget is already in memory: the common case allocates nothing.
   */
  private seedBudgets(a: Admission, now: number): Promise<unknown> | undefined {
    let pending: Promise<void>[] | undefined;
    for (const s of a.subjects) {
      if (s.budgetNanoUsd === null) continue;
      const period = periodOf(s.budgetPeriod, now);
      const bkey = `${keyOf(s)}|${period.key}`;
      if (this.budgets.has(bkey)) continue;
      let p = this.seeding.get(bkey);
      if (!p) {
        p = this.loadSpent(s, period.start)
          .then((spent) => {
            if (!this.budgets.has(bkey)) this.budgets.set(bkey, { spent, reserved: 0, limit: 0 });
            this.budgeted.add(keyOf(s));
          })
          .finally(() => this.seeding.delete(bkey));
        this.seeding.set(bkey, p);
      }
      if (pending) pending.push(p);
      else pending = [p];
    }
    return pending && Promise.all(pending);
  }
}

const keyOf = (s: SubjectLimits) => `${s.kind}:${s.id}`;

function refuse(refusal: Refusal, rate: RateState): AdmitResult {
  return { ok: false, refusal, rate };
}

/** Keeps the headers of the limit closest to running out. */
function tighten(
  rate: RateState,
  what: 'Requests' | 'Tokens',
  limit: number,
  remaining: number,
  resetMs: number,
): void {
  const remainingKey = `remaining${what}` as const;
  if (rate[remainingKey] !== undefined && (rate[remainingKey] as number) <= remaining) return;
  rate[`limit${what}`] = limit;
  rate[remainingKey] = remaining;
  rate[`reset${what}Ms`] = resetMs;
}
