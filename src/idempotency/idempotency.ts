import { performance } from 'node:perf_hooks';
import { type AppError, errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { ClaimRef, IdempotencyStore } from './idempotency-store.js';

/** IDEMPOTENCY_*: the window, how long a repeat waits for the first, and the largest response kept. */
export interface IdempotencySettings {
  /** How long a key holds (from its first request); 0 turns the feature off (the header passes through). */
  ttlMs: number;
  /** How long a repeat waits for the first request in flight before 409. */
  waitMs: number;
  /** Responses (streams included) up to this size are kept for replays. */
  maxResponseBytes: number;
}

/** How long a claim in flight holds without renewal: a dead instance's claims lapse after it. */
export const LEASE_MS = 30_000;
/** Claims in flight are renewed this often (a third of the lease: two renewals may fail). */
const RENEW_EVERY_MS = LEASE_MS / 3;
/** Polling the store for a first request on another instance: from this, doubling, up to the cap. */
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;

/** The outcomes counted in `llm_proxy_idempotency_total{result}`. */
export const IDEMPOTENCY_RESULTS = [
  'new',
  'replayed',
  'in_flight_conflict',
  'mismatch',
  'not_kept',
  'stored',
  'released',
  'invalid',
  'unsupported',
  'unavailable',
] as const;
export type IdempotencyResult = (typeof IDEMPOTENCY_RESULTS)[number];

/** What a request with a key does: run (holding the claim), replay the stored response, or be refused. */
export type Begun = { run: ClaimRef } | { replay: Buffer } | AppError;

/**
 * Idempotency-Key over a store (database or Redis): claims, waits for a first request in flight
 * (woken at once when it ran in this process, polling the store when it runs on another
 * instance), stores or releases the outcome, and keeps this instance's claims leased.
 */
export class Idempotency {
  /** Counts per result, read by the metrics at scrape time. */
  readonly counts: Record<IdempotencyResult, number>;
  /** Requests waiting for a first request with their key, now. */
  waiting = 0;
  /** This instance's claims in flight, by `project\nkey`: renewed every RENEW_EVERY_MS. */
  private readonly mine = new Map<string, ClaimRef>();
  /** Repeats waiting in this process, by `project\nkey`. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private renewer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: IdempotencyStore,
    readonly settings: IdempotencySettings,
    private readonly instanceId: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.counts = Object.fromEntries(IDEMPOTENCY_RESULTS.map((r) => [r, 0])) as Record<IdempotencyResult, number>;
  }

  get enabled(): boolean {
    return this.settings.ttlMs > 0;
  }

  count(result: IdempotencyResult): void {
    this.counts[result]++;
  }

  /**
   * Claims `key` for request `requestId`, or says what the key holds: the stored response, 422
   * for another request's key, 409 past IDEMPOTENCY_WAIT_MS while the first is in flight. Resolves
   * null when `gone()` says the client left while it waited.
   */
  async begin(
    projectId: string,
    key: string,
    fingerprint: string,
    requestId: string,
    gone: () => boolean,
  ): Promise<Begun | null> {
    const deadline = performance.now() + this.settings.waitMs;
    const id = `${projectId}\n${key}`;
    let pollMs = FIRST_POLL_MS;
    for (;;) {
      let held: Awaited<ReturnType<IdempotencyStore['claim']>>;
      try {
        held = await this.store.claim({
          projectId,
          key,
          fingerprint,
          owner: this.instanceId,
          requestId,
          now: this.clock(),
          leaseMs: LEASE_MS,
          ttlMs: this.settings.ttlMs,
        });
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, request_id: requestId }, 'idempotency key store failed');
        this.count('unavailable');
        return errors.idempotencyUnavailable();
      }
      if (held === null) {
        const claim = { projectId, key, requestId };
        this.mine.set(id, claim);
        this.startRenewing();
        this.count('new');
        return { run: claim };
      }
      if (held.fingerprint !== fingerprint) {
        this.count('mismatch');
        return errors.idempotencyKeyMismatch();
      }
      if (held.state === 'done') {
        if (held.response === null) {
          this.count('not_kept');
          return errors.idempotencyResponseNotKept();
        }
        this.count('replayed');
        return { replay: held.response };
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.count('in_flight_conflict');
        return errors.idempotencyKeyInUse();
      }
      this.waiting++;
      await this.wake(id, Math.min(pollMs, left));
      this.waiting--;
      if (gone()) return null;
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
  }

  /**
   * The claimed request ended with an answer worth keeping: `response` (null when larger than
   * IDEMPOTENCY_MAX_RESPONSE_BYTES) is stored off the request path; repeats waiting here are woken.
   * A failed write is logged: the claim then lapses with its lease and a repeat runs again.
   */
  complete(claim: ClaimRef, response: Buffer | null): void {
    this.count('stored');
    this.end(claim, this.store.complete(claim, response, this.clock()), 'storing an idempotent response failed');
  }

  /** The claimed request ended without an answer to keep (5xx, 429, cut, refused): the key is free again. */
  release(claim: ClaimRef): void {
    this.count('released');
    this.end(claim, this.store.release(claim), 'releasing an idempotency key failed');
  }

  private end(claim: ClaimRef, write: Promise<boolean>, failure: string): void {
    const id = `${claim.projectId}\n${claim.key}`;
    if (this.mine.get(id) === claim) this.mine.delete(id);
    write.then(
      () => this.notify(id),
      (err: unknown) => {
        this.logger.warn({ err: (err as Error).message, request_id: claim.requestId }, failure);
        this.notify(id);
      },
    );
  }

  /** Resolves after `ms`, or sooner when a request with this key ends in this process. */
  private wake(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(id) === waiters) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  private notify(id: string): void {
    const set = this.waiters.get(id);
    if (set) for (const w of [...set]) w();
  }

  private startRenewing(): void {
    if (this.renewer) return;
    this.renewer = setInterval(() => this.renew(), RENEW_EVERY_MS);
    this.renewer.unref();
  }

  /** Extends the lease of this instance's claims in flight; stops when it holds none. */
  private renew(): void {
    if (this.mine.size === 0) {
      this.stop();
      return;
    }
    this.store.renew(this.instanceId, [...this.mine.values()], this.clock(), LEASE_MS).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'renewing idempotency keys in flight failed');
    });
  }

  stop(): void {
    clearInterval(this.renewer);
    this.renewer = undefined;
  }
}
