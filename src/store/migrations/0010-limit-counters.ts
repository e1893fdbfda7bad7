import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Exact request caps and lifetime budgets through PostgreSQL, for several instances without Redis
 * (limits/store-counted-limiter.ts, store/limit-counters-repo.ts). The tables are made on both
 * dialects (SQLite, one process, never uses them: its memory limiter is exact); the functions that
 * admit and settle in one round trip each are PostgreSQL's only.
 *
 * - limit_counters: one row per token or project with `max_requests` or a `budget_period: total`
 *   budget: requests admitted (compared with the persisted request_count, the larger counts, so
 *   the usage writer's increments are never added twice), lifetime spend settled, and reserved
 *   estimates of requests in flight; `budget_micro_usd` is the budget last admitted under, so a
 *   changed budget re-reads the spend from the usage rollups.
 * - limit_reservations: one row per budgeted subject of a request in flight, with the instance
 *   holding it and a deadline after which the sweeper settles it as unfinished (its estimate).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('limit_counters')
    .addColumn('kind', 'text', (c) => c.notNull()) // 'token' | 'project'
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('spent_micro_usd', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reserved_micro_usd', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('budget_micro_usd', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('limit_counters_pkey', ['kind', 'subject_id'])
    .execute();
  await db.schema
    .createTable('limit_reservations')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('estimate_micro_usd', 'bigint', (c) => c.notNull())
    .addColumn('deadline', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('limit_reservations_pkey', ['request_id', 'kind', 'subject_id'])
    .execute();
  await db.schema.createIndex('limit_reservations_deadline_idx').on('limit_reservations').column('deadline').execute();
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;

  /*
   * Both functions commit without waiting for the WAL flush (synchronous_commit off, for their own
   * transaction only): the rows of a busy token or project are locked from the check to the commit,
   * so a flush per admission would cap one token at about one admission per disk flush (measured:
   * 7x fewer requests a second; docs/scaling.md). What a PostgreSQL crash can lose is the last
   * fraction of a second of these updates (3 × wal_writer_delay at most): requests counted again
   * from request_count (written durably with the usage records), and settlements of that moment.
   */

  /*
   * Admits a request on every subject given, or on none: locks their rows in the caller's order
   * (sorted by kind then id, the same in every function, so admissions and settlements never
   * deadlock), checks each (requests < max_requests; spent + reserved + estimate <= budget), then
   * counts the request on each and reserves the estimate on each budgeted one.
   * Answers (refused, what, used): 0 when admitted; i (1-based) when subject i refused it, `what`
   * being 'requests' or 'budget' and `used` the requests counted or the micro-dollars committed;
   * -i when subject i has no counter yet or a changed budget and p_seeds[i] is null: the caller
   * reads its spend from the usage rollups and calls again with it.
   */
  await sql`
    create or replace function llmp_limits_admit_v1(
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
        if not found or (p_budgets[i] is not null and c.budget_micro_usd is distinct from p_budgets[i]) then
          if p_budgets[i] is not null and p_seeds[i] is null then
            return query select -i, 'seed'::text, 0::bigint;
            return;
          end if;
          insert into limit_counters as l (kind, subject_id, spent_micro_usd, budget_micro_usd, updated_at)
            values (p_kinds[i], p_ids[i], coalesce(p_seeds[i], 0), p_budgets[i], p_now)
            on conflict (kind, subject_id) do update
              set spent_micro_usd = greatest(l.spent_micro_usd, excluded.spent_micro_usd),
                  budget_micro_usd = excluded.budget_micro_usd;
          select * into c from limit_counters where kind = p_kinds[i] and subject_id = p_ids[i] for update;
        end if;
        counted := greatest(c.requests, p_request_counts[i]);
        if p_max_requests[i] is not null and counted >= p_max_requests[i] then
          return query select i, 'requests'::text, counted;
          return;
        end if;
        committed := c.spent_micro_usd + c.reserved_micro_usd;
        if p_budgets[i] is not null and (committed >= p_budgets[i] or committed + p_estimate > p_budgets[i]) then
          return query select i, 'budget'::text, committed;
          return;
        end if;
      end loop;
      for i in 1..n loop
        update limit_counters
          set requests = greatest(requests, p_request_counts[i]) + 1,
              reserved_micro_usd = reserved_micro_usd + case when p_budgets[i] is null then 0 else p_estimate end,
              -- Null while the subject is counted for its cap alone: a budget set again later reads
              -- the spend made meanwhile from the rollups (a changed budget).
              budget_micro_usd = p_budgets[i],
              updated_at = p_now
          where kind = p_kinds[i] and subject_id = p_ids[i];
        if p_budgets[i] is not null then
          insert into limit_reservations (request_id, kind, subject_id, instance_id, estimate_micro_usd, deadline)
            values (p_request_id, p_kinds[i], p_ids[i], p_instance, p_estimate, p_deadline);
        end if;
      end loop;
      return query select 0, null::text, 0::bigint;
    end $fn$`.execute(db);

  /*
   * Settles a request's reservations: each is deleted and its estimate replaced by the actual cost
   * (p_actual; null charges the estimate: an unfinished request, as the sweeper settles one).
   * Idempotent: a reservation is settled once by whoever deletes it first. Answers how many.
   */
  await sql`
    create or replace function llmp_limits_settle_v1(p_request_id text, p_actual bigint, p_now bigint)
    returns int language plpgsql as $fn$
    declare
      r record;
      n int := 0;
    begin
      perform set_config('synchronous_commit', 'off', true);
      for r in
        select kind, subject_id, estimate_micro_usd from limit_reservations
          where request_id = p_request_id order by kind, subject_id for update
      loop
        delete from limit_reservations where request_id = p_request_id and kind = r.kind and subject_id = r.subject_id;
        if not found then continue; end if;
        update limit_counters
          set reserved_micro_usd = greatest(0, reserved_micro_usd - r.estimate_micro_usd),
              spent_micro_usd = spent_micro_usd + coalesce(p_actual, r.estimate_micro_usd),
              updated_at = p_now
          where kind = r.kind and subject_id = r.subject_id;
        n := n + 1;
      end loop;
      return n;
    end $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop function if exists llmp_limits_admit_v1`.execute(db);
    await sql`drop function if exists llmp_limits_settle_v1`.execute(db);
  }
  await db.schema.dropTable('limit_reservations').execute();
  await db.schema.dropTable('limit_counters').execute();
}
