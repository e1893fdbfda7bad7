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
  budgetNanoUsd: number | null;
  budgetPeriod: BudgetPeriod;
}

export interface Admission {
  /** The request's id: a shared backend keys the reservation by it, so settling is idempotent. */
  requestId: string;
  /**
   * The token, then its project. A shared backend keys a token's state under its project (one
   * Redis Cluster hash slot per project), so a token is always admitted with the same project.
   */
  subjects: SubjectLimits[];
  /** Tokens this request is expected to use (prompt estimate + output allowance). */
  estimatedTokens: number;
  /** Nano-dollars this request is expected to cost; 0 when it has no priced model. */
  estimatedCostNanoUsd: number;
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
  /** The admission's request id: settling a ticket twice (or a shared backend's sweeper first) charges once. */
  requestId: string;
  subjects: SubjectLimits[];
  estimatedTokens: number;
  estimatedCostNanoUsd: number;
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
  /** Set by the memory backend's first settle (a shared backend keeps this state by request id). */
  settled: boolean;
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
 * The limiter: one interface, two backends: memory (one process, memory-limiter.ts) and Redis
 * (many processes, redis-limiter.ts), held to one contract suite (test/limits/limiter-contract).
 * Both run the same algorithms over the same state: GCRA for the rates (gcra.ts, and its Lua twin
 * in redis-scripts.ts), and for budgets the UTC periods of `periodOf` below with spent + reserved
 * checked against the cap, seeded with the store's spend in the period (UsageRepo.spentSince).
 * Both decide every limit of every subject of a request as one atomic step: all pass and are
 * charged, or nothing is charged. `max_concurrent` is acquired in that same step and released by
 * `settle`, which every admitted request reaches exactly once (the Redis backend also holds each
 * reservation with a deadline, so an instance that dies cannot keep its slots and reservations).
 */
export interface Limiter {
  /**
   * Decides and charges a request. A backend returns a plain result when it can decide
   * synchronously (the memory backend, once a subject's budget is seeded), and a promise only when
   * it must wait (a store read, a Redis round trip): the hot path then costs no promise and no
   * microtask hop. Callers must handle both: `await` works on either; a hot path tests
   * `result instanceof Promise` first. Failures may come either way: a synchronous throw or a
   * rejected promise. Time is the backend's own: an injected clock (memory) or the server's (Redis).
   */
  admit(a: Admission): AdmitResult | Promise<AdmitResult>;
  /**
   * Replaces the estimate with the actual use and releases the request's in-flight slots and
   * reservations. Idempotent by the ticket's request id. Fire and forget: never throws or rejects.
   */
  settle(ticket: Ticket, actualTokens: number, actualCostNanoUsd: number): void;
  /**
   * Each budget's use in its current period, as far as this backend knows (for the metrics).
   * Synchronous: a shared backend answers from a snapshot it refreshes in the background.
   */
  budgetUse(): BudgetUse[];
  /**
   * A copy of the state held for a subject (tests, diagnostics), or undefined when none is held.
   * `projectId` is the token's project (a shared backend keys a token under it); ignored for a project.
   * Limits are not held (each admission brings them), so remaining amounts are the caller's arithmetic.
   */
  inspect(kind: SubjectLimits['kind'], id: string, projectId?: string): Promise<SubjectState | undefined>;
  /** Waits for pending settlements and releases connections. */
  close(): Promise<void>;
}

/** Read-only view of one subject's limiter state (see Limiter.inspect). */
export interface SubjectState {
  /** Requests admitted, seeded from the persisted request_count; counted with or without a cap. */
  requests?: number;
  /** Requests holding an in-flight slot (counted only while max_concurrent is set). */
  inFlight?: number;
  /**
   * GCRA theoretical arrival times (epoch ms, on the backend's clock) of the rate windows; at or
   * before now: a full window.
   */
  requestsTat?: number;
  tokensTat?: number;
  /** Budget state by period key (`total`, `day:2026-01-31`, `month:2026-01`; see periodOf). */
  budgets: Record<string, { spentNanoUsd: number; reservedNanoUsd: number }>;
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

/** Every budget period, in the order backends walk them. */
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['total', 'day', 'month'];
