import { type ExpressionBuilder, sql } from 'kysely';
import type { Db } from './database.js';
import {
  type Database,
  hourStart,
  type NewUsageRow,
  ROLLUP_SUM_COLUMNS,
  type UsageLatencyRollupsTable,
  type UsageRollupsTable,
  type UsageRow,
} from './schema.js';
import { inTransaction } from './transaction.js';
import { UsagePartitions } from './usage-partitions.js';

/** Requests and last use per token or project in one batch. */
export interface SubjectUse {
  id: string;
  requests: number;
  lastUsedAt: number;
}

/** Everything one flush writes, in one transaction (aggregated by the usage layer). */
export interface UsageBatch {
  rows: NewUsageRow[];
  tokenUses: SubjectUse[];
  projectUses: SubjectUse[];
  rollups: UsageRollupsTable[];
  latency: UsageLatencyRollupsTable[];
  /**
   * The same aggregation over some of the rows. The store calls it when rows were already stored
   * (a replayed journal, a retried batch whose commit did reach the database), so that counters
   * and rollups count each record once.
   */
  only(rows: NewUsageRow[]): UsageBatch;
}

/** The rows whose ids are in `inserted`, each id once (a batch may carry a record twice). */
export function insertedRows(rows: NewUsageRow[], inserted: Set<string>): NewUsageRow[] {
  const out: NewUsageRow[] = [];
  for (const r of rows) if (inserted.delete(r.id)) out.push(r);
  return out;
}

/**
 * Ids of the batch's unfinished records (rebuilt by a journal replay from an admission line) that
 * the store already has. On partitioned PostgreSQL the key is (id, created_at), and an unfinished
 * record carries its admission time while the stored one, finished, carries its end (the journal
 * lost the finished line: an OS crash before fsync, a full disk), maybe in another month: only a
 * lookup by id, in every partition, knows it is the same request. Every other record's
 * created_at is fixed once it is finished, so the key itself catches it being written again.
 */
async function storedUnfinished(trx: Db, rows: NewUsageRow[]): Promise<Set<string>> {
  const ids = rows.filter((r) => r.usage_status === 'unfinished').map((r) => r.id);
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const found = await trx
      .selectFrom('usage_records')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of found) out.add(r.id);
  }
  return out;
}

/** `col = table.col + excluded.col` for an upsert that adds a batch's deltas to stored sums. */
function addExcluded<T extends 'usage_rollups' | 'usage_latency_rollups'>(table: T, cols: readonly string[]) {
  return (_eb: ExpressionBuilder<Database, T>) =>
    Object.fromEntries(cols.map((c) => [c, sql`${sql.ref(`${table}.${c}`)} + ${sql.ref(`excluded.${c}`)}`]));
}

/** Persistence of usage records, their rollups and the per-token/project counters they imply. */
export class UsageRepo {
  /** The months of usage_records on PostgreSQL: made ahead, dropped past retention (no-op on SQLite). */
  readonly partitions: UsagePartitions;

  constructor(private readonly db: Db) {
    this.partitions = new UsagePartitions(db);
  }

  /**
   * Writes a batch in one transaction: records, rollup deltas (upserted: added to what is there),
   * and `request_count += n` / `last_used_at` per token and project, so counters, rollups and
   * records never disagree. Idempotent by record id: a record already stored is skipped, and only
   * the records actually inserted are counted. Returns how many were inserted.
   */
  async writeBatch(batch: UsageBatch): Promise<number> {
    // inTransaction: a failed write reports its own error, not the ROLLBACK's (see transaction.ts).
    return inTransaction(this.db, async (trx) => {
      const ids = new Set<string>();
      const stored = await storedUnfinished(trx, batch.rows);
      const rows = stored.size === 0 ? batch.rows : batch.rows.filter((r) => !stored.has(r.id));
      // Chunks keep each statement under SQLite's bound-parameter limit.
      for (let i = 0; i < rows.length; i += 400) {
        const inserted = await trx
          .insertInto('usage_records')
          .values(rows.slice(i, i + 400))
          // No conflict target: the key is (id) on SQLite, (id, created_at) on partitioned PostgreSQL.
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .execute();
        for (const r of inserted) ids.add(r.id);
      }
      const b = ids.size === batch.rows.length ? batch : batch.only(insertedRows(batch.rows, ids));
      for (let i = 0; i < b.rollups.length; i += 500) {
        await trx
          .insertInto('usage_rollups')
          .values(b.rollups.slice(i, i + 500))
          .onConflict((oc) =>
            oc
              .columns(['bucket_start', 'token_id', 'model'])
              .doUpdateSet(addExcluded('usage_rollups', ROLLUP_SUM_COLUMNS)),
          )
          .execute();
      }
      for (let i = 0; i < b.latency.length; i += 1000) {
        await trx
          .insertInto('usage_latency_rollups')
          .values(b.latency.slice(i, i + 1000))
          .onConflict((oc) =>
            oc
              .columns(['bucket_start', 'token_id', 'model', 'le'])
              .doUpdateSet(addExcluded('usage_latency_rollups', ['count'])),
          )
          .execute();
      }
      for (const [table, uses] of [
        ['tokens', b.tokenUses],
        ['projects', b.projectUses],
      ] as const) {
        for (const u of uses) {
          const update = trx.updateTable(table).set({ request_count: sql`request_count + ${u.requests}` });
          await (table === 'tokens'
            ? update.set({
                last_used_at: sql`case when last_used_at is null or last_used_at < cast(${u.lastUsedAt} as bigint) then cast(${u.lastUsedAt} as bigint) else last_used_at end`,
              })
            : update
          )
            .where('id', '=', u.id)
            .execute();
        }
      }
      return b.rows.length;
    });
  }

  async listByToken(tokenId: string, limit = 100): Promise<UsageRow[]> {
    return this.db
      .selectFrom('usage_records')
      .selectAll()
      .where('token_id', '=', tokenId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** Nano-dollars a token or project has spent since `from` (for budget seeds), from the rollups. */
  async spentSince(kind: 'token' | 'project', id: string, from: number): Promise<number> {
    const col = kind === 'token' ? 'token_id' : 'project_id';
    const row = await this.db
      .selectFrom('usage_rollups')
      .select((eb) => eb.fn.sum<number | string | null>('cost_nano_usd').as('spent'))
      .where(col, '=', id)
      .where('bucket_start', '>=', hourStart(from))
      .executeTakeFirst();
    return Number(row?.spent ?? 0);
  }

  /**
   * Deletes up to `limit` records older than `before`; returns how many went. On partitioned
   * PostgreSQL whole months go first (UsagePartitions.dropBefore) and this deletes the rest: the
   * condition on created_at limits both scans to the partitions that can hold such records.
   */
  async deleteOlderThan(before: number, limit: number): Promise<number> {
    const res = await this.db
      .deleteFrom('usage_records')
      .where('created_at', '<', before)
      .where('id', 'in', (eb) =>
        eb.selectFrom('usage_records').select('id').where('created_at', '<', before).limit(limit),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
