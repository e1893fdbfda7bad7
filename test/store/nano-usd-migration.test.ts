import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { limitFields } from '../../src/limits/limit-fields.js';
import { openDatabase } from '../../src/store/database.js';
import { LimitCountersRepo } from '../../src/store/limit-counters-repo.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrate.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { projectRow, tokenRow, usageRow } from '../helpers/rows.js';

/**
 * Migration 0017 on a database that has money in micro-dollars from before it: every amount is
 * renamed to its *_nano_usd column and multiplied by 1000 (null stays null), and on PostgreSQL the
 * limit functions work on the renamed columns.
 */
/** A database migrated to 0016 with money in micro-dollars from before, then to the latest. */
async function migrated(make: () => Promise<TestDatabase | undefined>) {
  const tdb = await make();
  if (!tdb) return undefined;
  const db = openDatabase(tdb.config);
  /** The same database typed loosely: the rows are written in the schema before 0017. */
  const before = db as unknown as Kysely<any>;
  const project = projectRow();
  const budgeted = tokenRow(project.id);
  const unbudgeted = tokenRow(project.id);
  const priced = usageRow(budgeted.id, project.id);
  const unpriced = usageRow(budgeted.id, project.id);
  const reservation = randomUUID();
  await migrateTo(db, '0016-key-http2');
  await before
    .insertInto('projects')
    .values({ ...project, budget_micro_usd: 9_000_000_000_000 })
    .execute();
  await before
    .insertInto('tokens')
    .values([
      { ...budgeted, budget_micro_usd: 1_500_001, budget_period: 'total' },
      { ...unbudgeted, budget_micro_usd: null, budget_period: 'total' },
    ])
    .execute();
  // The row as 0016's table has it: micro-dollars, and none of the columns later migrations add.
  const asBefore = (
    { cost_nano_usd, service_tier, billed_units, job_id, upstream_request_id, ...r }: typeof priced,
    cost: number | null,
  ) => ({ ...r, cost_micro_usd: cost });
  await before
    .insertInto('usage_records')
    .values([asBefore(priced, 7), asBefore(unpriced, null)])
    .execute();
  await sql`insert into usage_rollups (bucket_start, token_id, project_id, model, requests, errors, prompt_tokens,
    completion_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_micro_usd, unpriced_requests,
    estimated_requests, duration_ms_sum, bytes_in, bytes_out)
    values (0, ${budgeted.id}, ${project.id}, 'gpt-4o-mini', 2, 0, 1, 1, 2, 0, 0, 7, 1, 0, 1, 1, 1)`.execute(db);
  await sql`insert into limit_counters (kind, subject_id, requests, spent_micro_usd, reserved_micro_usd,
    budget_micro_usd, updated_at) values ('token', ${budgeted.id}, 3, 100, 40, 1500001, 1)`.execute(db);
  await sql`insert into limit_reservations (request_id, kind, subject_id, instance_id, estimate_micro_usd, deadline)
    values (${reservation}, 'token', ${budgeted.id}, 'i-1', 40, 2)`.execute(db);
  expect(await migrateToLatest(db)).toContain('0017-nano-usd');
  return { tdb, db, project, budgeted, unbudgeted, priced, unpriced, reservation };
}

type Migrated = NonNullable<Awaited<ReturnType<typeof migrated>>>;

describe.each(DIALECTS)('money to nano-dollars (migration 0017) on %s', (_name, make) => {
  let m: Migrated | undefined;
  beforeAll(async () => {
    m = await migrated(make);
  });
  afterAll(async () => {
    await m?.db.destroy();
    await m?.tdb.drop();
  });
  beforeEach((ctx) => {
    if (!m) ctx.skip();
  });

  it('renames every money column and multiplies its values by 1000, null staying null', async () => {
    const { db, project, budgeted, unbudgeted, priced, unpriced } = m as Migrated;
    const budgets = await db
      .selectFrom('tokens')
      .select(['id', 'budget_nano_usd'])
      .where('project_id', '=', project.id)
      .execute();
    expect(
      Object.fromEntries(budgets.map((t) => [t.id, t.budget_nano_usd === null ? null : Number(t.budget_nano_usd)])),
    ).toEqual({
      [budgeted.id]: 1_500_001_000,
      [unbudgeted.id]: null,
    });
    const p = await db.selectFrom('projects').select('budget_nano_usd').where('id', '=', project.id).executeTakeFirst();
    // $9M, the API's largest budget now: just under 2^53 nano-dollars, exact.
    expect(Number(p?.budget_nano_usd)).toBe(9_000_000_000_000_000);
    const costs = await db.selectFrom('usage_records').select(['id', 'cost_nano_usd']).execute();
    expect(
      Object.fromEntries(costs.map((r) => [r.id, r.cost_nano_usd === null ? null : Number(r.cost_nano_usd)])),
    ).toEqual({
      [priced.id]: 7000,
      [unpriced.id]: null,
    });
    const rollup = await db.selectFrom('usage_rollups').select('cost_nano_usd').executeTakeFirst();
    expect(Number(rollup?.cost_nano_usd)).toBe(7000);
    const counter = await sql<Record<string, string | number>>`select spent_nano_usd, reserved_nano_usd,
      budget_nano_usd from limit_counters`.execute(db);
    expect(counter.rows.map((r) => Object.values(r).map(Number))).toEqual([[100_000, 40_000, 1_500_001_000]]);
    const held = await sql<{ e: string | number }>`select estimate_nano_usd as e from limit_reservations`.execute(db);
    expect(held.rows.map((r) => Number(r.e))).toEqual([40_000]);
  });

  it('the API reads a budget set before as the same dollars', async () => {
    const { db, budgeted } = m as Migrated;
    const t = await db.selectFrom('tokens').selectAll().where('id', '=', budgeted.id).executeTakeFirstOrThrow();
    expect(limitFields({ ...t, budget_nano_usd: Number(t.budget_nano_usd) }).budget_usd).toBe(1.500001);
  });
});

describe.each(DIALECTS.filter(([name]) => name === 'postgres'))(
  "the limit functions after migration 0017 on %s (PostgreSQL's own)",
  (_name, make) => {
    let m: Migrated | undefined;
    beforeAll(async () => {
      m = await migrated(make);
    });
    afterAll(async () => {
      await m?.db.destroy();
      await m?.tdb.drop();
    });
    beforeEach((ctx) => {
      if (!m) ctx.skip();
    });

    it('settle a reservation from before at its estimate in nano-dollars, and admit and settle on the renamed columns', async () => {
      const { db, budgeted, reservation } = m as Migrated;
      const repo = new LimitCountersRepo(db);
      // The reservation from before is settled at its estimate (null: unfinished), now in nano-dollars.
      expect(await repo.settle(reservation, null, 3)).toBe(1);
      expect(await repo.counters('token', budgeted.id)).toEqual({
        requests: 3,
        spentNanoUsd: 140_000,
        reservedNanoUsd: 0,
      });
      const subject = {
        kind: 'token' as const,
        id: budgeted.id,
        requestCount: 3,
        maxRequests: null,
        budgetNanoUsd: 1_500_001_000,
        seedNanoUsd: null,
      };
      const next = randomUUID();
      expect(await repo.admit(next, 'i-2', 4, 5, 60, [subject])).toEqual({ refused: 0, what: null, used: 0 });
      expect(await repo.settle(next, 61, 6)).toBe(1);
      expect(await repo.counters('token', budgeted.id)).toEqual({
        requests: 4,
        spentNanoUsd: 140_061,
        reservedNanoUsd: 0,
      });
      const fns = await sql<{ proname: string }>`select proname from pg_proc where proname like 'llmp_limits_%'
        order by proname`.execute(db);
      expect(fns.rows.map((r) => r.proname)).toEqual(['llmp_limits_admit_v2', 'llmp_limits_settle_v2']);
    });
  },
);
