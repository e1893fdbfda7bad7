import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { LeasesRepo } from '../store/leases-repo.js';

/** How long a lease lasts without renewal: how long a job waits after its runner died unannounced. */
export const LEASE_TTL_MS = 60_000;

/**
 * An id for this process among the instances sharing a database: host and pid, for finding it,
 * and random bytes, so a restarted process (same pid in a new container) is someone else.
 */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * One instance's claim on a job that must run once per cluster (see LeasesRepo). `start` tries to
 * take the lease now and every third of its length, which also renews it while held; `held` says
 * whether this instance may run the job now; `stop` gives it up so another instance takes over at
 * once. A renewal that fails (the database is down) leaves `held` true only until the lease would
 * expire anyway, reckoned from the start of the last successful renewal, so no other instance can
 * have taken it meanwhile (clocks agreeing).
 */
export class Lease {
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | undefined;
  private stopped = false;

  constructor(
    private readonly repo: LeasesRepo,
    readonly name: string,
    readonly holder: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly ttlMs = LEASE_TTL_MS,
  ) {}

  /** Whether this instance holds the lease now. */
  get held(): boolean {
    return this.clock() < this.heldUntil;
  }

  /** Takes the lease now and keeps trying (renewing while held) until `stop`. */
  start(): void {
    if (this.timer || this.stopped) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  /** Takes or renews the lease now; resolves whether it is held. Never throws (failures are logged). */
  refresh(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    this.refreshing ??= this.tryAcquire().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Stops renewing and releases the lease if held, so another instance need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing;
    if (this.heldUntil === 0) return;
    this.heldUntil = 0;
    try {
      await this.repo.release(this.name, this.holder);
      this.logger.info({ lease: this.name, instance: this.holder }, 'lease released');
    } catch (err) {
      // It expires on its own.
      this.logger.warn(
        { lease: this.name, instance: this.holder, err: (err as Error)?.message },
        'lease release failed',
      );
    }
  }

  private async tryAcquire(): Promise<boolean> {
    const now = this.clock();
    const had = this.held;
    try {
      const got = await this.repo.acquire(this.name, this.holder, now, this.ttlMs);
      // Stopped meanwhile: stop() releases what this took.
      this.heldUntil = got ? now + this.ttlMs : 0;
    } catch (err) {
      this.logger.warn(
        { lease: this.name, instance: this.holder, err: (err as Error)?.message },
        'lease renewal failed',
      );
    }
    const has = this.held;
    if (has && !had) this.logger.info({ lease: this.name, instance: this.holder }, 'lease acquired');
    if (had && !has) this.logger.warn({ lease: this.name, instance: this.holder }, 'lease lost');
    return has;
  }
}
