import { PostgresAdapter, sql } from 'kysely';
import type { Db } from './database.js';
import { inTransaction } from './transaction.js';

/**
 * On PostgreSQL usage_records is partitioned by month of created_at (migration 0008): one
 * partition per UTC month, named usage_records_pYYYYMM, plus usage_records_default, a safety net
 * so an insert never fails for want of a partition. This module keeps the months ahead in place
 * and ends whole months by DROP instead of DELETE. On SQLite the table is plain and every call
 * here does nothing.
 */

/** Months created ahead of the current one, so inserts never need the default partition. */
export const MONTHS_AHEAD = 3;
export const DEFAULT_PARTITION = 'usage_records_default';
/** DDL here waits this long for its lock, then gives up until the next pass (writers queue behind it). */
const LOCK_TIMEOUT = '2s';
/** Serialises partition DDL across instances (a transaction-level advisory lock). */
const DDL_LOCK_KEY = 'llm-proxy:usage-partitions';

/** One month's partition: created_at in [from, to), epoch milliseconds. */
export interface UsagePartition {
  name: string;
  from: number;
  to: number;
}

/** What one pass did. */
export interface PartitionReport {
  created: string[];
  dropped: string[];
  /** Records that had landed in the default partition and were moved into their month's. */
  moved: number;
}

export function monthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonth(from: number): number {
  const d = new Date(from);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** usage_records_p202611 for November 2026 (UTC). */
export function partitionName(from: number): string {
  const d = new Date(from);
  return `usage_records_p${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Whether usage_records is partitioned in this database (PostgreSQL once 0008 has run). */
export async function usageRecordsPartitioned(db: Db): Promise<boolean> {
  if (!isPostgres(db)) return false;
  const r = await sql<{ n: number | string }>`
    select count(*) as n from pg_partitioned_table pt join pg_class c on c.oid = pt.partrelid
    where c.relname = 'usage_records' and c.relnamespace = current_schema()::regnamespace`.execute(db);
  return Number(r.rows[0]?.n) > 0;
}

/** Month partitions of usage_records by start, from the catalogue (the default partition left out). */
export async function listPartitions(db: Db): Promise<UsagePartition[]> {
  const r = await sql<{ name: string; bound: string }>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname = 'usage_records' and p.relnamespace = current_schema()::regnamespace`.execute(db);
  const out: UsagePartition[] = [];
  for (const row of r.rows) {
    // FOR VALUES FROM ('1793491200000') TO ('1796083200000'); the default partition says DEFAULT.
    const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(row.bound);
    if (m) out.push({ name: row.name, from: Number(m[1]), to: Number(m[2]) });
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Runs DDL in a transaction that holds the cross-instance lock and gives up on a busy table quickly. */
async function ddl<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return inTransaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${DDL_LOCK_KEY}))`.execute(trx);
    await sql`set local lock_timeout = ${sql.lit(LOCK_TIMEOUT)}`.execute(trx);
    return fn(trx);
  });
}

/**
 * Creates the partition of the month starting at `from` unless it exists, moving into it any of
 * that month's records the default partition holds (ATTACH refuses while they are there).
 * Returns how many were moved, or undefined when the partition was there already. The partition
 * is built on its own and attached, which locks the parent only in SHARE UPDATE EXCLUSIVE mode:
 * inserts and reads go on (CREATE TABLE ... PARTITION OF would lock them all out).
 */
async function createPartition(db: Db, from: number): Promise<number | undefined> {
  const to = nextMonth(from);
  const name = partitionName(from);
  return ddl(db, async (trx) => {
    if ((await listPartitions(trx)).some((p) => p.from === from)) return undefined;
    const table = sql.table(name);
    await sql`create table ${table} (like usage_records including defaults including constraints)`.execute(trx);
    // Held from here to commit: an insert routed to the default now waits, then finds the new month.
    await sql`lock table ${sql.table(DEFAULT_PARTITION)} in access exclusive mode`.execute(trx);
    const moved = await sql`
      with moved as (
        delete from ${sql.table(DEFAULT_PARTITION)} where created_at >= ${from} and created_at < ${to} returning *
      )
      insert into ${table} select * from moved`.execute(trx);
    await sql`alter table usage_records attach partition ${table}
      for values from (${sql.lit(from)}) to (${sql.lit(to)})`.execute(trx);
    return Number(moved.numAffectedRows ?? 0);
  });
}

/** Months the default partition holds records of (normally none). */
async function monthsInDefault(db: Db): Promise<number[]> {
  const r = await sql<{ m: string }>`
    select distinct to_char(to_timestamp(created_at / 1000.0) at time zone 'UTC', 'YYYY-MM') as m
    from ${sql.table(DEFAULT_PARTITION)}`.execute(db);
  return r.rows.map(({ m }) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1)).sort((a, b) => a - b);
}

/**
 * The partition job, run by each maintenance pass (and so at start): the current month and
 * MONTHS_AHEAD more exist; records that landed in the default partition are moved into their
 * month's; with `retainFrom`, partitions wholly older than it (their end <= retainFrom) are dropped.
 * The records of the month that straddles `retainFrom` are left to UsageRepo.deleteOlderThan.
 */
export class UsagePartitions {
  private partitioned: boolean | undefined;

  constructor(private readonly db: Db) {}

  /** False on SQLite (and on PostgreSQL before migration 0008): then every pass does nothing. */
  async enabled(): Promise<boolean> {
    // Only a positive answer is kept: the migration may run after this object is made.
    if (this.partitioned) return true;
    this.partitioned = await usageRecordsPartitioned(this.db);
    return this.partitioned;
  }

  async run(now: number, retainFrom?: number): Promise<PartitionReport> {
    const report: PartitionReport = { created: [], dropped: [], moved: 0 };
    if (!(await this.enabled())) return report;
    const months = new Set(await monthsInDefault(this.db));
    for (let m = monthStart(now), i = 0; i <= MONTHS_AHEAD; m = nextMonth(m), i++) months.add(m);
    for (const from of [...months].sort((a, b) => a - b)) {
      // A month wholly past retention is not created just to hold rows that are about to go.
      if (retainFrom !== undefined && nextMonth(from) <= retainFrom && from < monthStart(now)) continue;
      const moved = await createPartition(this.db, from);
      if (moved !== undefined) report.created.push(partitionName(from));
      report.moved += moved ?? 0;
    }
    if (retainFrom !== undefined) report.dropped = await this.dropBefore(retainFrom);
    return report;
  }

  /** Drops every month partition that ends at or before `before`; returns their names. */
  async dropBefore(before: number): Promise<string[]> {
    if (!(await this.enabled())) return [];
    const dropped: string[] = [];
    for (const p of await listPartitions(this.db)) {
      if (p.to > before) continue;
      await ddl(this.db, (trx) => sql`drop table if exists ${sql.table(p.name)}`.execute(trx));
      dropped.push(p.name);
    }
    return dropped;
  }
}
