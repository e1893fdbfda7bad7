import type { Clock } from '../shared/clock.js';
import type { InstancesRepo } from '../store/instances-repo.js';
import { storeOutage } from '../store/store-errors.js';
import type { Heartbeat } from './heartbeat.js';
import { type InstancesSummary, type InstanceView, summarize, toInstanceView } from './instance-view.js';

/** GET /manage/instances: every instance, and the dependencies as the answering one sees them. */
export interface InstancesListing {
  data: InstanceView[];
  next_cursor: null;
  /** How long without a heartbeat before an instance shows as `gone` (INSTANCE_GONE_AFTER_MS). */
  gone_after_ms: number;
  /** The database as the answering instance sees it; `unreachable`: `data` holds only that instance. */
  database: { kind: string; status: 'ok' | 'unreachable' };
  /** The Redis limiter as the answering instance sees it; null without REDIS_URL. */
  redis: { state: string; mode: string } | null;
}

export interface RegistryOptions {
  heartbeat: Heartbeat;
  clock: Clock;
  goneAfterMs: number;
  databaseKind: string;
  redis: () => { state: string; mode: string } | null;
}

/** Reads the instances registry for the management API and /health (nothing here is on the request path). */
export class InstancesRegistry {
  constructor(
    private readonly repo: InstancesRepo,
    private readonly opts: RegistryOptions,
  ) {}

  /** Every row, read now (this instance as it is now). While the database cannot answer, this instance alone. */
  async list(): Promise<InstancesListing> {
    const { heartbeat, clock, goneAfterMs, databaseKind } = this.opts;
    const self = heartbeat.row();
    let rows = [self];
    let status: 'ok' | 'unreachable' = 'ok';
    try {
      const stored = await this.repo.list();
      // This process as it is now (its in-flight count, not its last heartbeat's), also before its
      // first heartbeat or while they fail.
      rows = stored.some((r) => r.id === self.id)
        ? stored.map((r) => (r.id === self.id ? self : r))
        : [...stored, self];
    } catch (err) {
      if (!storeOutage(err)) throw err;
      status = 'unreachable';
    }
    const now = clock();
    return {
      data: rows.map((r) => toInstanceView(r, now, goneAfterMs, self.id)),
      next_cursor: null,
      gone_after_ms: goneAfterMs,
      database: { kind: databaseKind, status },
      redis: this.opts.redis(),
    };
  }

  /** Counts for /health, from the rows the last heartbeat read (no query); null before the first. */
  summary(): InstancesSummary | null {
    const read = this.opts.heartbeat.lastRead();
    if (!read) return null;
    return summarize(read.rows, this.opts.clock(), this.opts.goneAfterMs, read.readAt);
  }
}
