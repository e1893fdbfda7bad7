import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { type RedisConnection, RedisUnavailable } from '../redis/connection.js';
import type { Clock } from '../shared/clock.js';
import type { Admission, AdmitResult, BudgetUse, Limiter, SubjectLimits, SubjectState, Ticket } from './limits.js';
import { MemoryLimiter, type SpentLoader } from './memory-limiter.js';
import type { DriftReport, Reconciler } from './reconcile.js';
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
  /** The reconciliation job (under its own lease), started with the sweeper. */
  reconciler?: Reconciler | undefined;
  /** How often `startSweeper` sweeps (`sweepEveryMs` of the reservation timeout); a minute by default. */
  sweepEveryMs?: number;
}

/** A cluster lease (maintenance/lease.ts): one instance holds it at a time. */
export interface SweepLease {
  readonly held: boolean;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Settlements kept for sending again after an outage (beyond this the sweeper settles them), and
 * local admissions kept for the rebuild (beyond this they are not told to Redis: logged).
 */
const MAX_UNSENT = 100_000;

/** Reservations past their deadline (a dead instance's) are settled this often, at most. */
export const SWEEP_EVERY_MS = 60_000;

/**
 * How often the sweeper runs for a reservation timeout (RESERVATION_TIMEOUT_MS): a minute, or a
 * quarter of the timeout when that is shorter, so a dead instance's reservation is held at most
 * a quarter longer than its deadline.
 */
export function sweepEveryMs(reservationTimeoutMs: number): number {
  return Math.max(1, Math.min(SWEEP_EVERY_MS, Math.floor(reservationTimeoutMs / 4)));
}

/**
 * The Redis limiter with a failure mode in front. While Redis answers, every admission goes to it.
 * When a call fails with `RedisUnavailable` (down, no reply in time, circuit breaker open), the
 * request is decided here instead, and so is every request until the outage ends: `closed` refuses
 * a request of a token or project with any limit (503 limiter_unavailable) and lets unlimited ones
 * through; `local` decides it with a MemoryLimiter of this instance, created at the start of each
 * outage and so seeded from the store afresh. The probe (a PING every `probeMs`) ends the outage
 * once Redis answers, after the rebuild: every request the local limiter admitted is told to Redis
 * (`RedisLimiter.replay`: its request count, and its spend once it settles), so Redis's counters
 * hold what the outage admitted before this instance trusts them again. A Redis that lost its data
 * is rebuilt from the store instead, subject by subject, as its next admission seeds it.
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
  private readonly unsent = new Map<
    string,
    { ticket: Ticket; actualTokens: number; actualCost: number; admittedHere: boolean }
  >();
  /**
   * Requests the local limiter admitted, by request id, until Redis has them: counted (their
   * request) and, once settled, their cost. Replayed by the rebuild, and by their settle after it.
   */
  private readonly replays = new Map<string, { ticket: Ticket; counted: boolean; cost: number | undefined }>();
  /** Local admissions not kept for the rebuild (past MAX_UNSENT), logged at its end. */
  private replaysDropped = 0;
  private rebuilding: Promise<void> | undefined;
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

  /** The last reconciliation pass in this instance (none until it ran here: it runs in one instance). */
  drift(): DriftReport | undefined {
    return this.opts.reconciler?.report();
  }

  /** Runs a reconciliation pass now, whoever holds its lease (tests, diagnostics). */
  reconcile(): Promise<DriftReport> | undefined {
    return this.opts.reconciler?.run();
  }

  admit(a: Admission): Promise<AdmitResult> {
    // Until the outage ends (the probe's rebuild), Redis's counters lack what was admitted here.
    if (this.state !== 'ok') return new Promise<AdmitResult>((resolve) => resolve(this.fallback(a)));
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
    const owner = this.owners.get(ticket);
    owner?.settle(ticket, actualTokens, actualCost);
    // Redis's own tickets, and the others' too: their Redis call may have run with the reply lost.
    const admittedHere = owner === undefined;
    this.redis.settle(ticket, actualTokens, actualCost, admittedHere);
    // Likely lost: sent again when Redis answers, or a Redis that kept its data would hold the
    // reservation (an in-flight slot, a reserved budget) until the sweeper, 15 minutes on.
    if (this.state !== 'ok' && this.unsent.size < MAX_UNSENT) {
      this.unsent.set(ticket.requestId, { ticket, actualTokens, actualCost, admittedHere });
    }
    const replay = owner ? this.replays.get(ticket.requestId) : undefined;
    if (!replay) return;
    replay.cost = actualCost;
    // Counted by the rebuild already: its cost follows now (else the rebuild sends both).
    if (this.state === 'ok' && replay.counted) void this.replayOne(replay);
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
   * Starts the reconciliation job too (under its own lease).
   */
  startSweeper(everyMs = this.opts.sweepEveryMs ?? SWEEP_EVERY_MS): void {
    if (this.sweepTimer) return;
    this.opts.reconciler?.start();
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

  /**
   * Asks Redis once (PING) and records the answer: the state without traffic, and at start. After an
   * outage, resolves once the rebuild has run (Redis trusted again if it succeeded).
   */
  async probe(): Promise<void> {
    try {
      await this.connection.send(['PING']);
    } catch (err) {
      if (err instanceof RedisUnavailable) this.down(err);
      return;
    }
    await this.up();
  }

  /** Local admissions not yet told to Redis (tests, diagnostics). */
  get replaysPending(): number {
    return this.replays.size;
  }

  /** Waits for settlements in flight, then closes the connection (this limiter's to close). */
  async close(): Promise<void> {
    clearInterval(this.probeTimer);
    clearInterval(this.sweepTimer);
    await this.sweeping;
    await this.opts.reconciler?.stop();
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
        estimatedCostNanoUsd: a.estimatedCostNanoUsd,
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
      if (!r.ok) return r;
      this.owners.set(r.ticket, local);
      if (this.replays.size < MAX_UNSENT) {
        this.replays.set(a.requestId, { ticket: r.ticket, counted: false, cost: undefined });
      } else this.replaysDropped++;
      return r;
    };
    return decided instanceof Promise ? decided.then(own) : own(decided);
  }

  /** Redis answered: after an outage, the rebuild first; Redis is trusted once it succeeded. */
  private up(): Promise<void> {
    if (this.state === 'ok') return Promise.resolve();
    this.rebuilding ??= this.rebuild().finally(() => {
      this.rebuilding = undefined;
    });
    return this.rebuilding;
  }

  /**
   * Tells Redis every request admitted here during the outage (idempotent by request id, so a
   * rebuild cut short by another failure is simply run again by the next probe), then trusts it.
   */
  private async rebuild(): Promise<void> {
    const entries = [...this.replays.values()];
    try {
      // In slices, so a long outage's backlog does not flood the connection at once.
      for (let i = 0; i < entries.length; i += 256) {
        await Promise.all(entries.slice(i, i + 256).map((e) => this.replayOne(e, true)));
      }
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'limiter rebuild interrupted: retried by the next probe');
      return;
    }
    this.state = 'ok';
    // The next outage starts a new local limiter, seeded from the store (this one's tickets still
    // settle on it).
    this.local = undefined;
    this.opts.logger.info(
      {
        redis: this.connection.where,
        resettled: this.unsent.size,
        replayed: entries.length,
        ...(this.replaysDropped > 0 ? { not_replayed: this.replaysDropped } : {}),
      },
      'Redis answers again: requests admitted meanwhile are counted there, limits are shared again',
    );
    this.replaysDropped = 0;
    // Idempotent by request id: one that did arrive, or that Redis never saw, changes nothing.
    for (const u of this.unsent.values()) this.redis.settle(u.ticket, u.actualTokens, u.actualCost, u.admittedHere);
    this.unsent.clear();
  }

  /**
   * Tells Redis one local admission: its request unless counted already, its cost once known. Done
   * when both are there. `rethrow`: the rebuild's calls fail it; a settle's later call is retried by
   * the next rebuild (it stays in `replays`).
   */
  private async replayOne(
    e: { ticket: Ticket; counted: boolean; cost: number | undefined },
    rethrow = false,
  ): Promise<void> {
    const cost = e.cost;
    try {
      await this.redis.replay(e.ticket, !e.counted, cost);
    } catch (err) {
      if (rethrow) throw err;
      return;
    }
    e.counted = true;
    if (cost !== undefined) this.replays.delete(e.ticket.requestId);
    // It settled while this call was on its way: its cost follows.
    else if (e.cost !== undefined) await this.replayOne(e, rethrow);
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
    s.budgetNanoUsd !== null
  );
}
