import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Money in integer nano-dollars (1e-9 USD) instead of micro-dollars: a request that costs a fraction
 * of a micro-dollar (a few embedding tokens) rounded to 0 and sums drifted low. Every `*_micro_usd`
 * column is renamed `*_nano_usd` and its values multiplied by 1000 (exact: integers stay integers),
 * on both dialects, in this migration's transaction on PostgreSQL.
 *
 * This breaks the "migrations only add" rule on purpose (test/operations/upgrade-migrations.test.ts
 * lists it): a version before it cannot serve on the renamed columns, so this upgrade is not rolling
 * (docs/operations.md#upgrades). Redis counters move to a new key layout (limits/redis-scripts.ts)
 * so nothing written in micro-dollars there is read as nano-dollars.
 *
 * PostgreSQL's limit functions read the columns by name, so they are replaced by `_v2` ones (the
 * same logic on the new columns) and the `_v1` ones, which would only fail now, are dropped.
 */
const COLUMNS: ReadonlyArray<readonly [table: string, from: string, to: string]> = [
  ['tokens', 'budget_micro_usd', 'budget_nano_usd'],
  ['projects', 'budget_micro_usd', 'budget_nano_usd'],
  ['usage_records', 'cost_micro_usd', 'cost_nano_usd'],
  ['usage_rollups', 'cost_micro_usd', 'cost_nano_usd'],
  ['limit_counters', 'spent_micro_usd', 'spent_nano_usd'],
  ['limit_counters', 'reserved_micro_usd', 'reserved_nano_usd'],
  ['limit_counters', 'budget_micro_usd', 'budget_nano_usd'],
  ['limit_reservations', 'estimate_micro_usd', 'estimate_nano_usd'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    await sql`drop function if exists llmp_limits_admit_v1`.execute(db);
    await sql`drop function if exists llmp_limits_settle_v1`.execute(db);
  }
  for (const [table, from, to] of COLUMNS) {
    // On PostgreSQL a rename of the partitioned usage_records reaches every partition.
    await db.schema.alterTable(table).renameColumn(from, to).execute();
    await sql`update ${sql.table(table)} set ${sql.id(to)} = ${sql.id(to)} * 1000 where ${sql.id(to)} <> 0`.execute(db);
  }
  if (pg) await createFunctions(db, 'v2', 'nano');
}

/** Back to micro-dollars, rounded half up (what a nano-dollar fraction was worth before). */
export async function down(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    await sql`drop function if exists llmp_limits_admit_v2`.execute(db);
    await sql`drop function if exists llmp_limits_settle_v2`.execute(db);
  }
  for (const [table, from, to] of COLUMNS) {
    await sql`update ${sql.table(table)} set ${sql.id(to)} = (${sql.id(to)} + 500) / 1000 where ${sql.id(to)} <> 0`.execute(
      db,
    );
    await db.schema.alterTable(table).renameColumn(to, from).execute();
  }
  if (pg) await createFunctions(db, 'v1', 'micro');
}

/*
 * Migration 0010's functions under the name `version`, on the columns of `unit` (v2 on nano, as
 * `up` makes them; v1 on micro, as 0010 made them, for `down`); see 0010 for what they do and why
 * they commit without waiting for the WAL flush.
 */
async function createFunctions(db: Kysely<unknown>, version: 'v1' | 'v2', unit: 'micro' | 'nano'): Promise<void> {
  const admit = sql.raw(`llmp_limits_admit_${version}`);
  const settle = sql.raw(`llmp_limits_settle_${version}`);
  const spent = sql.raw(`spent_${unit}_usd`);
  const reserved = sql.raw(`reserved_${unit}_usd`);
  const budget = sql.raw(`budget_${unit}_usd`);
  const estimate = sql.raw(`estimate_${unit}_usd`);
  await sql`
    create or replace function ${admit}(
      p_request_id text, p_instance text, p_now bigint, p_deadline bigint, p_estimate bigint,
      p_kinds text[], p_ids text[], p_request_counts bigint[], p_max_requests bigint[],
      p_budgets bigint[], p_seeds bigint[]
    ) returns table (refused int, what text, used bigint) language plpgsql as $fn$
    declare
      n int := coalesce(array_length(p_kinds, 1), 0);
      c record;
      counted bigint;
      committed bigint;
    begin
      perform set_config('synchronous_commit', 'off', true);
      for i in 1..n loop
        select * into c from limit_counters where kind = p_kinds[i] and subject_id = p_ids[i] for update;
        if not found or (p_budgets[i] is not null and c.${budget} is distinct from p_budgets[i]) then
          if p_budgets[i] is not null and p_seeds[i] is null then
            return query select -i, 'seed'::text, 0::bigint;
            return;
          end if;
          insert into limit_counters as l (kind, subject_id, ${spent}, ${budget}, updated_at)
            values (p_kinds[i], p_ids[i], coalesce(p_seeds[i], 0), p_budgets[i], p_now)
            on conflict (kind, subject_id) do update
              set ${spent} = greatest(l.${spent}, excluded.${spent}),
                  ${budget} = excluded.${budget};
          select * into c from limit_counters where kind = p_kinds[i] and subject_id = p_ids[i] for update;
        end if;
        counted := greatest(c.requests, p_request_counts[i]);
        if p_max_requests[i] is not null and counted >= p_max_requests[i] then
          return query select i, 'requests'::text, counted;
          return;
        end if;
        committed := c.${spent} + c.${reserved};
        if p_budgets[i] is not null and (committed >= p_budgets[i] or committed + p_estimate > p_budgets[i]) then
          return query select i, 'budget'::text, committed;
          return;
        end if;
      end loop;
      for i in 1..n loop
        update limit_counters
          set requests = greatest(requests, p_request_counts[i]) + 1,
              ${reserved} = ${reserved} + case when p_budgets[i] is null then 0 else p_estimate end,
              -- Null while the subject is counted for its cap alone: a budget set again later reads
              -- the spend made meanwhile from the rollups (a changed budget).
              ${budget} = p_budgets[i],
              updated_at = p_now
          where kind = p_kinds[i] and subject_id = p_ids[i];
        if p_budgets[i] is not null then
          insert into limit_reservations (request_id, kind, subject_id, instance_id, ${estimate}, deadline)
            values (p_request_id, p_kinds[i], p_ids[i], p_instance, p_estimate, p_deadline);
        end if;
      end loop;
      return query select 0, null::text, 0::bigint;
    end $fn$`.execute(db);

  await sql`
    create or replace function ${settle}(p_request_id text, p_actual bigint, p_now bigint)
    returns int language plpgsql as $fn$
    declare
      r record;
      n int := 0;
    begin
      perform set_config('synchronous_commit', 'off', true);
      for r in
        select kind, subject_id, ${estimate} from limit_reservations
          where request_id = p_request_id order by kind, subject_id for update
      loop
        delete from limit_reservations where request_id = p_request_id and kind = r.kind and subject_id = r.subject_id;
        if not found then continue; end if;
        update limit_counters
          set ${reserved} = greatest(0, ${reserved} - r.${estimate}),
              ${spent} = ${spent} + coalesce(p_actual, r.${estimate}),
              updated_at = p_now
          where kind = r.kind and subject_id = r.subject_id;
        n := n + 1;
      end loop;
      return n;
    end $fn$`.execute(db);
}
