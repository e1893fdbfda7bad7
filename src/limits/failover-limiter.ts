import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { type RedisConnection, RedisUnavailable } from '../redis/connection.js';
import type { Clock } from '../shared/clock.js';
import type { Admission, AdmitResult, BudgetUse, Limiter, SubjectLimits, SubjectState, Ticket } from './limits.js';
import { MemoryLimiter, type SpentLoader } from './memory-limiter.js';
import type { RedisLimiter } from './redis-limiter.js';

/** What an instance does while Redis cannot answer (REDIS_FAILURE_MODE). */
export type FailureMode = 'closed' | 'local';

/** The shared limiter's state, for /health, /ready and the metrics. */
export interface LimiterHealth {
  backend: 'redis';
  /** `failing`: the last call to Redis failed (down, timed out, breaker open). */
  state: 'ok' | 'failing';
  mode: FailureMode;
}

export interface FailoverOptions {
  mode: FailureMode;
  logger: Logger;
  /** How often Redis is pinged, so the state is known without traffic (and recovers without it). */
  probeMs?: number;
  /** The cluster lease under which `startSweeper` sweeps (without one, every instance sweeps). */
  sweepLease?: SweepLease | undefined;
}

/** A cluster lease (maintenance/lease.ts): one instance holds it at a time. */
export interface SweepLease {
  readonly held: boolean;
  start(): void;
  stop(): Promise<void>;
}

/** Settlements kept for sending again after an outage; beyond this the sweeper settles them. */
const MAX_UNSENT = 100_000;

/** Reservations past their deadline (a dead instance's) are settled this often. */
export const SWEEP_EVERY_MS = 60_000;

/**
 * The Redis limiter with a failure mode in front. While Redis answers, every admission goes to it.
 * When a call fails with `RedisUnavailable` (down, no reply in time, circuit breaker open), the
 * request is decided here instead: `closed` refuses a request of a token or project with any limit
 * (503 limiter_unavailable) and lets unlimited ones through; `local` decides it with a MemoryLimiter
 * of this instance, created at the start of each outage and so seeded from the store afresh. The
 * first call Redis answers again ends the outage: Redis's counters are the truth again.
 *
 * A ticket is settled by whoever admitted it (remembered per ticket, whatever the state by then). A
 * request decided here after its Redis call failed is also settled on Redis, best effort: the call
 * may have reached Redis with only the reply lost, and its reservation there (an in-flight slot, a
 * reserved budget) would otherwise wait for the sweeper; Redis ignores a request id it never saw.
 * Settlements made while Redis is failing are sent again when it answers, for the same reason.
 *
 * The state changes log one line each way, never one per request.
 */
export class FailoverLimiter implements Limiter {
  private state: LimiterHealth['state'] = 'ok';
  /** The per-instance limiter of the current outage (local mode). */
  private local: MemoryLimiter | undefined;
  /** Tickets not admitted by Redis: their limiter, or null when nothing was charged. */
  private readonly owners = new WeakMap<Ticket, Limiter | null>();
  /** Settlements sent while Redis was failing, by request id: sent again when it answers. */
  private readonly unsent = new Map<string, { ticket: Ticket; actualTokens: number; actualCost: number }>();
  private probeTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisLimiter,
    private readonly connection: RedisConnection,
    private readonly loadSpent: SpentLoader,
    private readonly clock: Clock,
    private readonly opts: FailoverOptions,
  ) {
    const probeMs = opts.probeMs ?? 1000;
    this.probeTimer = setInterval(() => void this.probe(), probeMs);
    this.probeTimer.unref();
  }

  health(): LimiterHealth {
    return { backend: 'redis', state: this.state, mode: this.opts.mode };
  }

  admit(a: Admission): Promise<AdmitResult> {
    return this.redis.admit(a).then(
      (result) => {
        this.up();
        return result;
      },
      (err: unknown) => {
        if (!(err instanceof RedisUnavailable)) throw err;
        this.down(err);
        return this.fallback(a);
      },
    );
  }

  settle(ticket: Ticket, actualTokens: number, actualCost: number): void {
    // Redis's own tickets, and the others' too: their Redis call may have run with the reply lost.
    this.owners.get(ticket)?.settle(ticket, actualTokens, actualCost);
    this.redis.settle(ticket, actualTokens, actualCost);
    // Likely lost: sent again when Redis answers, or a Redis that kept its data would hold the
    // reservation (an in-flight slot, a reserved budget) until the sweeper, 15 minutes on.
    if (this.state === 'failing' && this.unsent.size < MAX_UNSENT) {
      this.unsent.set(ticket.requestId, { ticket, actualTokens, actualCost });
    }
  }

  budgetUse(): BudgetUse[] {
    return this.state === 'failing' && this.local ? this.local.budgetUse() : this.redis.budgetUse();
  }

  inspect(kind: SubjectLimits['kind'], id: string, projectId?: string): Promise<SubjectState | undefined> {
    return this.redis.inspect(kind, id, projectId);
  }

  /**
   * Settles expired reservations (`RedisLimiter.sweep`) every `everyMs` while Redis answers, in the
   * instance holding the sweep lease (the server starts it; one-shot commands do not sweep). Without
   * a lease every instance would: harmless, as a reservation is settled once whoever finds it.
   */
  startSweeper(everyMs = SWEEP_EVERY_MS): void {
    if (this.sweepTimer) return;
    const lease = this.opts.sweepLease;
    if (lease) {
      lease.start();
      this.redis.setSweepLease(async () => lease.held);
    }
    this.sweepTimer = setInterval(() => {
      if (this.state !== 'ok' || this.sweeping) return;
      this.sweeping = this.redis
        .sweep()
        .then((n) => {
          if (n > 0) this.opts.logger.info({ swept: n }, 'expired limiter reservations settled as unfinished');
        })
        .catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'limiter sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, everyMs);
    this.sweepTimer.unref();
  }

  /** Asks Redis once (PING) and records the answer: the state without traffic, and at start. */
  async probe(): Promise<void> {
    try {
      await this.connection.send(['PING']);
      this.up();
    } catch (err) {
      if (err instanceof RedisUnavailable) this.down(err);
    }
  }

  /** Waits for settlements in flight, then closes the connection (this limiter's to close). */
  async close(): Promise<void> {
    clearInterval(this.probeTimer);
    clearInterval(this.sweepTimer);
    await this.sweeping;
    await this.opts.sweepLease?.stop();
    await this.redis.close();
    await this.connection.close();
  }

  private fallback(a: Admission): AdmitResult | Promise<AdmitResult> {
    if (this.opts.mode === 'closed') {
      if (a.subjects.some(limited)) throw errors.limiterUnavailable();
      const ticket: Ticket = {
        requestId: a.requestId,
        subjects: a.subjects,
        estimatedTokens: a.estimatedTokens,
        estimatedCostMicroUsd: a.estimatedCostMicroUsd,
        periods: [],
        admittedAt: this.clock(),
        concurrent: 0,
        settled: false,
      };
      this.owners.set(ticket, null);
      return { ok: true, ticket, rate: {} };
    }
    this.local ??= new MemoryLimiter(this.loadSpent, this.clock);
    const local = this.local;
    const decided = local.admit(a);
    const own = (r: AdmitResult) => {
      if (r.ok) this.owners.set(r.ticket, local);
      return r;
    };
    return decided instanceof Promise ? decided.then(own) : own(decided);
  }

  private up(): void {
    if (this.state === 'ok') return;
    this.state = 'ok';
    // The next outage starts a new local limiter, seeded from the store (this one's tickets still
    // settle on it).
    this.local = undefined;
    this.opts.logger.info(
      { redis: this.connection.where, resettled: this.unsent.size },
      'Redis answers again: limits are shared again',
    );
    // Idempotent by request id: one that did arrive, or that Redis never saw, changes nothing.
    for (const u of this.unsent.values()) this.redis.settle(u.ticket, u.actualTokens, u.actualCost);
    this.unsent.clear();
  }

  private down(err: Error): void {
    if (this.state === 'failing') return;
    this.state = 'failing';
    const meanwhile =
      this.opts.mode === 'closed'
        ? 'requests of limited tokens and projects get 503 limiter_unavailable'
        : 'each instance limits on its own';
    this.opts.logger.warn(
      { redis: this.connection.where, mode: this.opts.mode, err: err.message },
      `Redis cannot answer: ${meanwhile} until it does`,
    );
  }
}

/** Whether a subject has any limit the limiter decides. */
function limited(s: SubjectLimits): boolean {
  return (
    s.maxRequests !== null ||
    s.requestsPerMinute !== null ||
    s.maxConcurrent !== null ||
    s.tokensPerMinute !== null ||
    s.budgetMicroUsd !== null
  );
}
