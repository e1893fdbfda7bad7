import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { CountedSubject, LimitCountersRepo } from '../store/limit-counters-repo.js';
import { storeOutage } from '../store/store-errors.js';
import { SWEEP_EVERY_MS, type SweepLease } from './failover-limiter.js';
import type {
  Admission,
  AdmitResult,
  BudgetUse,
  Limiter,
  Refusal,
  SubjectLimits,
  SubjectState,
  Ticket,
} from './limits.js';
import type { MemoryLimiter, SpentLoader } from './memory-limiter.js';

/** How long a reservation outlives its request's admission before the sweep settles it (as Redis's). */
export const RESERVATION_TTL_MS = 15 * 60_000;

/** Settlements kept while the database cannot take them, sent again every RESETTLE_MS. */
const MAX_UNSENT = 100_000;
const RESETTLE_MS = 1_000;

export interface StoreCountedOptions {
  /** This process (Runtime.instanceId): recorded with each reservation it holds. */
  instanceId: string;
  clock: Clock;
  logger: Logger;
  /** RESERVATION_TIMEOUT_MS; 15 minutes by default. */
  reservationTtlMs?: number;
  /** How often `startSweeper` sweeps (`sweepEveryMs` of the reservation timeout); a minute by default. */
  sweepEveryMs?: number;
  /** The cluster lease under which `startSweeper` sweeps (without one, every instance sweeps). */
  sweepLease?: SweepLease | undefined;
}

/** Reservations settled per sweep query. */
const SWEEP_BATCH = 500;
const PRUNE_EVERY_MS = 3_600_000;

/** Whether the database decides a limit of this subject: a request cap or a lifetime budget. */
function counted(s: SubjectLimits): boolean {
  return s.maxRequests !== null || (s.budgetNanoUsd !== null && s.budgetPeriod === 'total');
}

/** The subject as the memory limiter sees it: without the limits the database decides. */
function localPart(s: SubjectLimits): SubjectLimits {
  return {
    ...s,
    maxRequests: null,
    budgetNanoUsd: s.budgetPeriod === 'total' ? null : s.budgetNanoUsd,
  };
}

/** Project before token, then by id: the order the database functions lock rows in. */
const byKindThenId = (a: SubjectLimits, b: SubjectLimits) =>
  a.kind === b.kind ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.kind < b.kind ? -1 : 1;

/**
 * Exact request caps and lifetime budgets for several instances on one PostgreSQL without Redis.
 * A decorator over the instance's MemoryLimiter: a request whose token or project has
 * `max_requests` or a `budget_period: total` budget is first decided in memory on everything else
 * (RPM, TPM, concurrency, day and month budgets: per instance), then by one call of a database
 * function that counts it and reserves its estimate on every such subject at once, or on none
 * (LimitCountersRepo). Settling replaces the reservation with the actual cost, one more call,
 * idempotent by request id; only budgeted requests need it. A reservation whose instance died is
 * settled as unfinished (charged its estimate) by `sweep` once its deadline has passed.
 *
 * Requests of subjects without those limits go to the memory limiter alone: no database call.
 * A database that cannot answer an admission is the catalogue's 503 store_unavailable.
 */
export class StoreCountedLimiter implements Limiter {
  /** Tickets of requests with a lifetime budget: their settlement goes to the database. */
  private readonly budgeted = new WeakSet<Ticket>();
  /** Settlements the database could not take (request id → actual cost), sent again. */
  private readonly unsent = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  private resettleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private prunedAt = 0;
  private readonly ttlMs: number;

  constructor(
    private readonly local: MemoryLimiter,
    private readonly repo: LimitCountersRepo,
    private readonly loadSpent: SpentLoader,
    private readonly opts: StoreCountedOptions,
  ) {
    this.ttlMs = opts.reservationTtlMs ?? RESERVATION_TTL_MS;
  }

  admit(a: Admission): AdmitResult | Promise<AdmitResult> {
    // The common case, no subject with a cap or a lifetime budget, allocates nothing.
    if (!a.subjects.some(counted)) return this.local.admit(a);
    const subjects = a.subjects.filter(counted);
    const decided = this.local.admit({ ...a, subjects: a.subjects.map((s) => (counted(s) ? localPart(s) : s)) });
    const inStore = subjects.sort(byKindThenId);
    return decided instanceof Promise
      ? decided.then((r) => this.admitInStore(a, inStore, r))
      : this.admitInStore(a, inStore, decided);
  }

  settle(ticket: Ticket, actualTokens: number, actualCostNanoUsd: number): void {
    const first = !ticket.settled;
    this.local.settle(ticket, actualTokens, actualCostNanoUsd);
    if (first && this.budgeted.has(ticket)) this.send(ticket.requestId, Math.round(actualCostNanoUsd));
  }

  /** The memory limiter's budgets (day and month; lifetime budgets are in the database). */
  budgetUse(): BudgetUse[] {
    return this.local.budgetUse();
  }

  /** The instance's state of the subject, with the database's request count and lifetime budget. */
  async inspect(kind: SubjectLimits['kind'], id: string): Promise<SubjectState | undefined> {
    await this.drain();
    const [state, row] = await Promise.all([this.local.inspect(kind, id), this.repo.counters(kind, id)]);
    // Requests are counted in the database (for subjects with a cap or a lifetime budget); the
    // memory limiter's own count of them decides nothing here.
    const { requests: _, ...local } = state ?? { budgets: {} };
    if (!row) return Object.keys(local).length > 1 || Object.keys(local.budgets).length > 0 ? local : undefined;
    const out: SubjectState = local;
    out.requests = row.requests;
    out.budgets.total = { spentNanoUsd: row.spentNanoUsd, reservedNanoUsd: row.reservedNanoUsd };
    return out;
  }

  /**
   * Settles the reservations past their deadline (an instance that died holding them) as unfinished
   * requests, each charged its estimate, as the crash journal and the Redis sweeper do; resolves
   * how many requests it settled. A reservation is settled once, whoever finds it first.
   */
  async sweep(now = this.opts.clock()): Promise<number> {
    // Counters of tokens and projects deleted since (token retention): once an hour is plenty.
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      const pruned = await this.repo.pruneOrphans();
      if (pruned > 0) this.opts.logger.info({ pruned }, 'limit counters of deleted tokens and projects removed');
    }
    let n = 0;
    for (;;) {
      const ids = await this.repo.expired(now, SWEEP_BATCH);
      for (const id of ids) if ((await this.repo.settle(id, null, now)) > 0) n++;
      if (ids.length < SWEEP_BATCH || this.closed) return n;
    }
  }

  /** Sweeps every `everyMs` in the instance holding the sweep lease (the server starts it). */
  startSweeper(everyMs = this.opts.sweepEveryMs ?? SWEEP_EVERY_MS): void {
    if (this.sweepTimer || this.closed) return;
    const lease = this.opts.sweepLease;
    lease?.start();
    this.sweepTimer = setInterval(() => {
      if (this.sweeping || (lease && !lease.held)) return;
      this.sweeping = this.sweep()
        .then((n) => {
          if (n > 0) this.opts.logger.info({ swept: n }, 'expired limit reservations settled as unfinished');
        })
        .catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'limit reservation sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, everyMs);
    this.sweepTimer.unref();
  }

  /** Waits for settlements in flight, tries the unsent ones once more, then closes the memory limiter. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.resettleTimer);
    this.resettleTimer = undefined;
    clearInterval(this.sweepTimer);
    await this.sweeping;
    await this.opts.sweepLease?.stop();
    await this.drain();
    if (this.unsent.size > 0) {
      this.resettle();
      await this.drain();
    }
    if (this.unsent.size > 0) {
      this.opts.logger.warn(
        { unsettled: this.unsent.size },
        'limit reservations left unsettled: the sweep charges their estimate after the deadline',
      );
    }
    await this.local.close();
  }

  private async admitInStore(a: Admission, subjects: SubjectLimits[], local: AdmitResult): Promise<AdmitResult> {
    if (!local.ok) return local;
    const undo = () => this.local.settle(local.ticket, 0, 0);
    const rows: CountedSubject[] = subjects.map((s) => ({
      kind: s.kind,
      id: s.id,
      requestCount: s.requestCount,
      maxRequests: s.maxRequests,
      budgetNanoUsd: s.budgetPeriod === 'total' ? s.budgetNanoUsd : null,
      seedNanoUsd: null,
    }));
    const estimate = Math.ceil(a.estimatedCostNanoUsd);
    const now = this.opts.clock();
    let answer: Awaited<ReturnType<LimitCountersRepo['admit']>>;
    try {
      for (;;) {
        answer = await this.repo.admit(a.requestId, this.opts.instanceId, now, now + this.ttlMs, estimate, rows);
        if (answer.refused >= 0) break;
        // A subject new to the counters (or with a changed budget): its lifetime spend so far.
        const i = -answer.refused - 1;
        (rows[i] as CountedSubject).seedNanoUsd = await this.loadSpent(subjects[i] as SubjectLimits, 0);
      }
    } catch (err) {
      undo();
      const outage = storeOutage(err);
      throw outage ? errors.storeUnavailable(outage) : err;
    }
    if (answer.refused > 0) {
      undo();
      const s = subjects[answer.refused - 1] as SubjectLimits;
      const refusal: Refusal =
        answer.what === 'requests'
          ? { kind: 'requests', subject: s, limit: s.maxRequests as number, remaining: 0 }
          : {
              kind: 'budget',
              subject: s,
              limit: s.budgetNanoUsd as number,
              remaining: Math.max(0, (s.budgetNanoUsd as number) - answer.used),
            };
      return { ok: false, refusal, rate: local.rate };
    }
    if (rows.some((r) => r.budgetNanoUsd !== null)) this.budgeted.add(local.ticket);
    return local;
  }

  private send(requestId: string, actual: number): void {
    const p = this.repo
      .settle(requestId, actual, this.opts.clock())
      .then(() => this.unsent.delete(requestId))
      .catch((err: unknown) => {
        // Kept and sent again: until then the reservation holds the estimate, not the actual cost.
        if (this.unsent.size < MAX_UNSENT) this.unsent.set(requestId, actual);
        this.opts.logger.debug({ err: (err as Error)?.message, request_id: requestId }, 'limit settlement failed');
        if (this.closed) return;
        this.resettleTimer ??= setTimeout(() => {
          this.resettleTimer = undefined;
          this.resettle();
        }, RESETTLE_MS).unref();
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private resettle(): void {
    const unsent = [...this.unsent];
    this.unsent.clear();
    for (const [id, actual] of unsent) this.send(id, actual);
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
