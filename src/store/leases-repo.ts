import type { Db } from './database.js';

/** Who holds a lease, until when (epoch ms). */
export interface LeaseHolder {
  holder: string;
  expiresAt: number;
  acquiredAt: number;
}

/**
 * Leases on the `leases` table: one row per job that must run once per cluster. Acquiring and
 * renewing are one statement, atomic on both dialects (an upsert whose update applies only when
 * the lease has expired or is already the caller's), so of several instances trying at once exactly
 * one gets it. Times come from the caller's clock: instances must agree on the time to well within
 * a lease's length.
 */
export class LeasesRepo {
  constructor(private readonly db: Db) {}

  /**
   * Takes `name` for `holder` until `now + ttlMs` if it is free, expired (`expires_at <= now`) or
   * already `holder`'s (a renewal). Resolves whether `holder` holds it now.
   */
  async acquire(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const row = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: now + ttlMs, acquired_at: now })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_at: eb.ref('excluded.expires_at'),
            // A renewal keeps the time it was first taken.
            acquired_at: eb
              .case()
              .when('leases.holder', '=', holder)
              .then(eb.ref('leases.acquired_at'))
              .else(eb.ref('excluded.acquired_at'))
              .end(),
          }))
          .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
      )
      .returning('holder')
      .executeTakeFirst();
    return row?.holder === holder;
  }

  /** Gives `name` up if `holder` holds it (whether or not it has expired); resolves whether it did. */
  async release(name: string, holder: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('leases')
      .where('name', '=', name)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The lease's row, expired or not; undefined when nobody has taken it (or it was released). */
  async current(name: string): Promise<LeaseHolder | undefined> {
    const row = await this.db
      .selectFrom('leases')
      .select(['holder', 'expires_at', 'acquired_at'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { holder: row.holder, expiresAt: row.expires_at, acquiredAt: row.acquired_at };
  }
}
