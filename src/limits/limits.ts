/** Limits of one subject: a token, or a project as a ceiling over all of its tokens. */
export type BudgetPeriod = 'total' | 'day' | 'month';

export interface SubjectLimits {
  /** 'token' or 'project': names the subject in refusals and keys its state. */
  kind: 'token' | 'project';
  id: string;
  maxRequests: number | null;
  /** Persisted request count (seeds the exact counter). */
  requestCount: number;
  requestsPerMinute: number | null;
  /** Requests in flight at once. */
  maxConcurrent: number | null;
  tokensPerMinute: number | null;
  budgetMicroUsd: number | null;
  budgetPeriod: BudgetPeriod;
}

export interface Admission {
  subjects: SubjectLimits[];
  /** Tokens this request is expected to use (prompt estimate + output allowance). */
  estimatedTokens: number;
  /** Micro-dollars this request is expected to cost; 0 when it has no priced model. */
  estimatedCostMicroUsd: number;
  now: number;
}

export type LimitKind = 'requests' | 'requests_per_minute' | 'max_concurrent' | 'tokens_per_minute' | 'budget';

export interface Refusal {
  kind: LimitKind;
  subject: SubjectLimits;
  limit: number;
  remaining: number;
  /** For rate limits: when a retry can succeed. */
  retryAfterMs?: number;
  resetMs?: number;
}

/** What an admitted request was charged, so the actual usage can settle it afterwards. */
export interface Ticket {
  subjects: SubjectLimits[];
  estimatedTokens: number;
  estimatedCostMicroUsd: number;
  /** Period each budget was charged in (a settlement after midnight must not touch the new day). */
  periods: string[];
  /** When the request was admitted: its spend belongs to the day, month and lifetime of this time. */
  admittedAt: number;
  /**
   * Bit i set: the request took an in-flight slot of `subjects[i]` (its `max_concurrent` was set
   * when it was admitted), so settling gives back exactly what admitting took, whatever the caps
   * are by then. A number, not an array: nothing allocated for it.
   */
  concurrent: number;
}

/** OpenAI-style rate-limit state of the tightest limit, for response headers. */
export interface RateState {
  limitRequests?: number;
  remainingRequests?: number;
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
}

export type AdmitResult =
  | { ok: true; ticket: Ticket; rate: RateState }
  | { ok: false; refusal: Refusal; rate: RateState };

/**
 * The limiter: one interface, an in-memory backend now and a shared backend for many instances
 * later. Both run the same algorithms over the same state: GCRA for the rates (gcra.ts), and for
 * budgets the UTC periods of `periodOf` below with spent + reserved checked against the cap in the
 * backend's decision step (memory-limiter.ts), seeded with the store's spend in the period
 * (UsageRepo.spentSince). Both decide every limit of every subject of a request as one atomic step:
 * all pass and are charged, or nothing is charged. `max_concurrent` is acquired in that same step
 * and released by `settle`, which every admitted request reaches exactly once (a shared backend
 * would hold each slot as a lease that expires, so an instance that dies cannot keep its slots).
 */
export interface Limiter {
  /**
   * Decides and charges a request. A backend returns a plain result when it can decide
   * synchronously (the memory backend, once a subject's budget is seeded), and a promise only when
   * it must wait (a store read, a Redis round trip): the hot path then costs no promise and no
   * microtask hop. Callers must handle both: `await` works on either; a hot path tests
   * `result instanceof Promise` first. Failures may come either way: a synchronous throw or a
   * rejected promise.
   */
  admit(a: Admission): AdmitResult | Promise<AdmitResult>;
  /** Replaces the estimate with the actual use and releases the request's in-flight slots (fire and forget; never throws). */
  settle(ticket: Ticket, actualTokens: number, actualCostMicroUsd: number): void;
  /** Each budget's use in its current period, as far as this backend knows (for the metrics). */
  budgetUse(now: number): BudgetUse[];
}

/** One budget's use in its current period (1 = all of it committed: spent plus reserved). */
export interface BudgetUse {
  kind: SubjectLimits['kind'];
  id: string;
  used: number;
}

/**
 * The budget period containing `now` (UTC): its key, start, and end (the start of the next one;
 * undefined for the lifetime, which never resets).
 */
export function periodOf(period: BudgetPeriod, now: number): { key: string; start: number; end: number | undefined } {
  if (period === 'total') return { key: 'total', start: 0, end: undefined };
  const d = new Date(now);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  const start = period === 'day' ? Date.UTC(y, m, day) : Date.UTC(y, m, 1);
  const end = period === 'day' ? Date.UTC(y, m, day + 1) : Date.UTC(y, m + 1, 1);
  return { key: `${period}:${new Date(start).toISOString().slice(0, period === 'day' ? 10 : 7)}`, start, end };
}
