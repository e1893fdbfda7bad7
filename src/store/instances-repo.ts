import type { Db } from './database.js';
import type { InstanceRow } from './schema.js';

export type { InstanceRow };

/**
 * The `instances` table (migration 0011): one row per running server process. Each process writes
 * only its own row (an upsert per heartbeat, a delete when it stops); anyone lists them; the
 * maintenance pass deletes rows whose heartbeat stopped long ago.
 */
export class InstancesRepo {
  constructor(private readonly db: Db) {}

  /** Inserts or replaces the row of `row.id` (one statement on both dialects). */
  async upsert(row: InstanceRow): Promise<void> {
    const { id: _id, ...rest } = row;
    await this.db
      .insertInto('instances')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  /** Every row, oldest start first (few: one per process). */
  list(): Promise<InstanceRow[]> {
    return this.db.selectFrom('instances').selectAll().orderBy('started_at').orderBy('id').execute();
  }

  /** Deletes the row of `id`; resolves whether there was one. */
  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('instances').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Deletes the rows last seen before `before` (epoch ms); resolves how many. */
  async deleteSeenBefore(before: number): Promise<number> {
    const r = await this.db.deleteFrom('instances').where('last_seen_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
