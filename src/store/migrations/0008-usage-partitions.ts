import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only: usage_records becomes PARTITION BY RANGE (created_at), one partition per UTC
 * month, so retention drops a month instead of deleting its rows (src/store/usage-partitions.ts,
 * docs/scaling.md). SQLite keeps its plain table.
 *
 * A partitioned table's unique keys must hold the partition key, so the primary key becomes
 * (id, created_at). Writing a record twice stays a no-op because a record's created_at is fixed
 * once it is finished (the journal line and the store carry the same value); the one record that
 * can come back with another time, an "unfinished" one rebuilt from its admission line, is looked
 * up by id first (UsageRepo.writeBatch).
 *
 * The rows move in this migration's transaction (Kysely runs each in one on PostgreSQL): the old
 * table is renamed, the new one made with a partition per month that has rows plus the current
 * month and three ahead, and a default partition as a safety net; the rows are copied and the
 * old table dropped. Indexes are built after the copy, once per partition.
 */
const AHEAD = 3;

const monthName = (from: number) => {
  const d = new Date(from);
  return `usage_records_p${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};
const nextMonth = (from: number) => {
  const d = new Date(from);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

const INDEXES = [
  ['usage_created_at_idx', 'created_at'],
  ['usage_token_idx', 'token_id, created_at'],
  ['usage_project_idx', 'project_id, created_at'],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table usage_records rename to usage_records_unpartitioned`.execute(db);
  await sql`create table usage_records (like usage_records_unpartitioned including defaults)
    partition by range (created_at)`.execute(db);
  await sql`create table usage_records_default partition of usage_records default`.execute(db);

  const stored = await sql<{ m: string }>`
    select distinct to_char(to_timestamp(created_at / 1000.0) at time zone 'UTC', 'YYYY-MM') as m
    from usage_records_unpartitioned`.execute(db);
  const months = new Set(stored.rows.map(({ m }) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1)));
  const now = new Date();
  for (let m = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1), i = 0; i <= AHEAD; m = nextMonth(m), i++) {
    months.add(m);
  }
  for (const from of months) {
    await sql`create table ${sql.table(monthName(from))} partition of usage_records
      for values from (${sql.lit(from)}) to (${sql.lit(nextMonth(from))})`.execute(db);
  }

  await sql`insert into usage_records select * from usage_records_unpartitioned`.execute(db);
  await sql`drop table usage_records_unpartitioned`.execute(db);
  await sql`alter table usage_records add constraint usage_records_pkey primary key (id, created_at)`.execute(db);
  for (const [name, cols] of INDEXES) {
    await sql`create index ${sql.id(name)} on usage_records (${sql.raw(cols)})`.execute(db);
  }
}

/** Back to one plain table keyed by id (the months' rows copied back, the partitions dropped). */
export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table usage_records rename to usage_records_partitioned`.execute(db);
  await sql`create table usage_records (like usage_records_partitioned including defaults)`.execute(db);
  await sql`insert into usage_records select * from usage_records_partitioned`.execute(db);
  await sql`drop table usage_records_partitioned`.execute(db);
  await sql`alter table usage_records add primary key (id)`.execute(db);
  for (const [name, cols] of INDEXES) {
    await sql`create index ${sql.id(name)} on usage_records (${sql.raw(cols)})`.execute(db);
  }
}
