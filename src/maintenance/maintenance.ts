import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SessionsService } from '../access/sessions-service.js';
import { listedIds, systemActor } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { GONE_ROW_RETENTION_MS } from '../instances/instance-view.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { ChangesRepo } from '../store/changes-repo.js';
import type { IdempotencyKeysRepo } from '../store/idempotency-keys-repo.js';
import type { InstancesRepo } from '../store/instances-repo.js';
import type { TokensRepo } from '../store/tokens-repo.js';
import type { UsageRepo } from '../store/usage-repo.js';
import { CHANGES_RETENTION_MS } from '../tokens/change-feed.js';
import type { TokensService } from '../tokens/tokens-service.js';
import type { PricingService } from '../usage/pricing-service.js';
import type { Lease } from './lease.js';

const DAY_MS = 86_400_000;
/** The first pass runs this soon after start (or after one interval, if that is shorter). */
const FIRST_PASS_DELAY_MS = 10_000;

export interface MaintenanceSettings {
  /** Time between passes; 0 turns the background job off (`runOnce` still works). */
  intervalMs: number;
  /** Raw usage records older than this are deleted; 0 keeps them. Rollups are never deleted. */
  usageRetentionDays: number;
  /** Tokens revoked or expired longer ago than this are deleted; 0 keeps them. */
  tokenRetentionDays: number;
  /** Audit events older than this (whole UTC days) are deleted, leaving a verifiable anchor; 0 keeps them. */
  auditRetentionDays: number;
}

export interface MaintenanceDeps {
  usageRepo: UsageRepo;
  tokensRepo: TokensRepo;
  tokens: TokensService;
  audit: AuditTrail;
  /** Reloads pricing overrides, so changes made on another instance arrive here too. */
  pricing?: PricingService | undefined;
  /** Deletes the rows of ended sessions (they stopped working when they ended). */
  sessions?: SessionsService | undefined;
  /** The change log instances follow (tokens/change-feed.ts): rows older than an hour are deleted. */
  changes?: ChangesRepo | undefined;
  /** The instances registry: rows of instances gone for a day are deleted. */
  instances?: InstancesRepo | undefined;
  /** Idempotency keys in the database: rows whose window ended are deleted (Redis expires its own). */
  idempotencyKeys?: IdempotencyKeysRepo | undefined;
  logger: Logger;
  now: Clock;
  /**
   * Instances sharing a database run the periodic passes only while holding this lease: one
   * runner per cluster. Without it every pass runs (one process).
   */
  lease?: Lease | undefined;
}

/** What one pass did. */
export interface MaintenanceReport {
  usage_records_deleted: number;
  /** Whole months of usage records dropped on PostgreSQL (their rows are not counted above). */
  usage_partitions_dropped: number;
  tokens_deactivated: number;
  tokens_deleted: number;
  audit_events_deleted: number;
  /** Rows of expired admin sessions removed. */
  sessions_deleted: number;
  /** Rows of instances without a heartbeat for a day removed (instances/instance-view.ts). */
  instances_deleted: number;
  /** Idempotency keys past their window (IDEMPOTENCY_TTL_SECONDS) removed. */
  idempotency_keys_deleted: number;
  duration_ms: number;
  /** Steps that failed (the others still ran). */
  errors: string[];
}

/**
 * Background housekeeping, one pass every MAINTENANCE_INTERVAL_MS:
 * - usage retention: raw usage_records older than USAGE_RETENTION_DAYS are deleted in small
 *   batches (one statement per batch, yielding to the event loop between), rollups stay; on
 *   PostgreSQL whole months are dropped first and months ahead made (store/usage-partitions.ts);
 * - token cleanup: tokens past their expiry are deactivated (is_active = 0; they still show as
 *   `expired`), and tokens that ended (revoked or expired) more than TOKEN_RETENTION_DAYS ago are
 *   deleted, their usage records and rollups kept; the token cache forgets every token touched;
 * - audit retention: events older than AUDIT_RETENTION_DAYS are deleted after an `audit.pruned`
 *   event anchors what remains (see AuditTrail.prune);
 * - pricing overrides are re-read from the store;
 * - the rows of expired admin sessions are deleted;
 * - change-log rows older than an hour are deleted (every instance applied them long before);
 * - the registry rows of instances without a heartbeat for a day are deleted (they died unannounced);
 * - idempotency keys past their window are deleted.
 * Passes never overlap, errors are logged and never thrown, and the timer does not keep the
 * process alive. With a lease, a periodic pass runs only in the instance holding it (it is renewed
 * while the job runs and released on stop), and a pass whose lease is lost stops after its
 * current batch; `runOnce` (a one-shot command) runs regardless.
 */
export class Maintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** A periodic pass under the lease is running (it halts if the lease is lost). */
  private leased = false;
  /** Periodic passes run, and those skipped because another instance holds the lease. */
  readonly passes = { run: 0, skipped: 0 };

  constructor(
    private readonly deps: MaintenanceDeps,
    private readonly settings: MaintenanceSettings,
    private readonly batchSize = 1000,
  ) {}

  /** Starts the periodic passes (nothing when the interval is 0). */
  start(): void {
    if (this.settings.intervalMs <= 0 || this.timer || this.stopped) return;
    this.deps.lease?.start();
    this.schedule(Math.min(this.settings.intervalMs, FIRST_PASS_DELAY_MS));
  }

  /** Whether a pass is scheduled or running: never with an interval of 0, nor once stopped. */
  get active(): boolean {
    return this.timer !== undefined || this.running !== undefined;
  }

  /** Stops the timer and waits for a pass in progress, which ends after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.deps.lease?.stop();
  }

  /** One pass now. Failures of a step are logged and listed in `errors`; nothing is thrown. */
  async runOnce(): Promise<MaintenanceReport> {
    const started = performance.now();
    const { logger } = this.deps;
    const report: MaintenanceReport = {
      usage_records_deleted: 0,
      usage_partitions_dropped: 0,
      tokens_deactivated: 0,
      tokens_deleted: 0,
      audit_events_deleted: 0,
      sessions_deleted: 0,
      instances_deleted: 0,
      idempotency_keys_deleted: 0,
      duration_ms: 0,
      errors: [],
    };
    const step = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        report.errors.push(`${name}: ${message}`);
        logger.error({ step: name, err: message }, 'maintenance step failed');
      }
    };

    // PostgreSQL: months ahead made, whole months past retention dropped (usage-partitions.ts).
    await step('usage_partitions', async () => {
      const now = this.deps.now();
      const days = this.settings.usageRetentionDays;
      const r = await this.deps.usageRepo.partitions.run(now, days > 0 ? now - days * DAY_MS : undefined);
      report.usage_partitions_dropped = r.dropped.length;
      if (r.moved > 0) logger.warn({ moved: r.moved }, 'usage records in the default partition moved to their month');
      if (r.created.length + r.dropped.length > 0) logger.info(r, 'usage record partitions changed');
    });
    await step('usage_retention', async () => {
      if (this.settings.usageRetentionDays <= 0) return;
      const before = this.deps.now() - this.settings.usageRetentionDays * DAY_MS;
      report.usage_records_deleted = await this.inBatches((n) => this.deps.usageRepo.deleteOlderThan(before, n));
    });
    await step('token_expiry', async () => {
      const now = this.deps.now();
      report.tokens_deactivated = await this.inBatches(async (n) => {
        const ids = await this.deps.tokensRepo.deactivateExpired(now, n);
        this.deps.tokens.invalidate(ids);
        return ids.length;
      });
    });
    await step('token_retention', async () => {
      if (this.settings.tokenRetentionDays <= 0) return;
      const before = this.deps.now() - this.settings.tokenRetentionDays * DAY_MS;
      report.tokens_deleted = await this.inBatches(async (n) => {
        const ids = await this.deps.audit.change({ actor: systemActor('maintenance') }, async (tx) => {
          const ids = await tx.repos.tokens.deleteEndedBefore(before, n);
          if (ids.length > 0) {
            tx.record({
              action: 'token.deleted',
              target: { type: 'token', id: null },
              details: {
                reason: 'retention',
                ended_before: new Date(before).toISOString(),
                count: ids.length,
                ...listedIds('token_ids', ids),
              },
            });
          }
          return ids;
        });
        this.deps.tokens.invalidate(ids);
        return ids.length;
      });
    });
    await step('audit_retention', async () => {
      if (this.settings.auditRetentionDays <= 0) return;
      // Whole UTC days: at most one audit.pruned anchor a day, however often the job runs.
      const now = this.deps.now();
      const before = now - (now % DAY_MS) - this.settings.auditRetentionDays * DAY_MS;
      report.audit_events_deleted = await this.deps.audit.prune(before, this.batchSize * 10, () => this.halted());
    });
    await step('pricing_reload', async () => {
      await this.deps.pricing?.reload();
    });
    await step('session_cleanup', async () => {
      report.sessions_deleted = (await this.deps.sessions?.deleteExpired()) ?? 0;
    });
    await step('changes_retention', async () => {
      const changes = this.deps.changes;
      // Wall time, as the rows are written: a feed further behind than this starts over (change-feed.ts).
      if (changes) await this.inBatches((n) => changes.deleteBefore(Date.now() - CHANGES_RETENTION_MS, n));
    });
    await step('instances_prune', async () => {
      const instances = this.deps.instances;
      if (!instances) return;
      report.instances_deleted = await instances.deleteSeenBefore(this.deps.now() - GONE_ROW_RETENTION_MS);
    });
    await step('idempotency_keys', async () => {
      const keys = this.deps.idempotencyKeys;
      if (keys) report.idempotency_keys_deleted = await this.inBatches((n) => keys.sweep(this.deps.now(), n));
    });

    report.duration_ms = Math.round((performance.now() - started) * 100) / 100;
    const changed =
      report.usage_records_deleted +
        report.usage_partitions_dropped +
        report.tokens_deactivated +
        report.tokens_deleted +
        report.audit_events_deleted +
        report.sessions_deleted +
        report.instances_deleted +
        report.idempotency_keys_deleted >
      0;
    const { errors: _errors, ...summary } = report;
    if (changed) logger.info(summary, 'maintenance pass');
    else logger.debug(summary, 'maintenance pass: nothing to do');
    return report;
  }

  /** Repeats `batch(limit)` until it handles fewer than a full batch (or the job is stopped). */
  private async inBatches(batch: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await batch(this.batchSize);
      total += n;
      if (n < this.batchSize || this.halted()) return total;
      await yieldToEventLoop();
    }
  }

  /** Stopped, or a periodic pass whose lease was lost: another instance may be running one. */
  private halted(): boolean {
    return this.stopped || (this.leased && this.deps.lease?.held === false);
  }

  /** A periodic pass: only in the instance holding the lease, when there is one. */
  private async periodicPass(): Promise<void> {
    const { lease, logger } = this.deps;
    if (lease && !(await lease.refresh())) {
      this.passes.skipped++;
      logger.debug(
        { lease: lease.name, instance: lease.holder },
        'maintenance pass skipped: another instance holds the lease',
      );
      return;
    }
    this.passes.run++;
    this.leased = lease !== undefined;
    try {
      await this.runOnce();
    } finally {
      this.leased = false;
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.periodicPass()
        .catch((err: unknown) => this.deps.logger.error({ err: (err as Error)?.message }, 'maintenance pass failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.settings.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
