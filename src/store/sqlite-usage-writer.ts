import type SQLite from 'better-sqlite3';
import { RECORD_COLUMNS, ROLLUP_SUM_COLUMNS, recordValues } from './schema.js';
import { insertedRows, type UsageBatch } from './usage-repo.js';

const ROLLUP_KEY = ['bucket_start', 'token_id', 'project_id', 'model'] as const;
const LATENCY_COLUMNS = ['bucket_start', 'token_id', 'project_id', 'model', 'le', 'count'] as const;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const addExcluded = (cols: readonly string[]) => cols.map((c) => `${c} = ${c} + excluded.${c}`).join(', ');

/**
 * The usage worker's batch write on SQLite: the same transaction as `UsageRepo.writeBatch`
 * (records, rollup upserts, token and project counters), with statements prepared once instead
 * of built per batch. It runs a few times a second at full load, so building the SQL for each
 * batch cost more CPU than SQLite's own work; test/store/sqlite-usage-writer.test.ts holds the
 * two to the same result.
 */
export class SqliteUsageWriter {
  /** Idempotent by record id like `UsageRepo.writeBatch`; returns how many records were inserted. */
  readonly write: (batch: UsageBatch) => number;

  constructor(db: SQLite.Database) {
    const insertRecord = db.prepare(
      `insert into usage_records (${RECORD_COLUMNS.join(', ')}) values (${placeholders(RECORD_COLUMNS.length)})
       on conflict (id) do nothing`,
    );
    const rollupColumns = [...ROLLUP_KEY, ...ROLLUP_SUM_COLUMNS];
    const upsertRollup = db.prepare(
      `insert into usage_rollups (${rollupColumns.join(', ')}) values (${placeholders(rollupColumns.length)})
       on conflict (bucket_start, token_id, model) do update set ${addExcluded(ROLLUP_SUM_COLUMNS)}`,
    );
    const upsertLatency = db.prepare(
      `insert into usage_latency_rollups (${LATENCY_COLUMNS.join(', ')}) values (${placeholders(LATENCY_COLUMNS.length)})
       on conflict (bucket_start, token_id, model, le) do update set ${addExcluded(['count'])}`,
    );
    const touchToken = db.prepare(
      `update tokens set request_count = request_count + ?,
         last_used_at = case when last_used_at is null or last_used_at < ? then ? else last_used_at end
       where id = ?`,
    );
    const touchProject = db.prepare('update projects set request_count = request_count + ? where id = ?');

    this.write = db.transaction((batch: UsageBatch) => {
      const ids = new Set<string>();
      for (const r of batch.rows) {
        if (insertRecord.run(recordValues(r)).changes === 1) ids.add(r.id);
      }
      const b = ids.size === batch.rows.length ? batch : batch.only(insertedRows(batch.rows, ids));
      for (const g of b.rollups) upsertRollup.run(rollupColumns.map((c) => g[c]));
      for (const l of b.latency) upsertLatency.run(LATENCY_COLUMNS.map((c) => l[c]));
      for (const u of b.tokenUses) touchToken.run(u.requests, u.lastUsedAt, u.lastUsedAt, u.id);
      for (const u of b.projectUses) touchProject.run(u.requests, u.id);
      return b.rows.length;
    });
  }
}
