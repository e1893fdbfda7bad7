import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import * as partitioning from '../../src/store/migrations/0008-usage-partitions.js';
import type { NewUsageRow } from '../../src/store/schema.js';
import {
  DEFAULT_PARTITION,
  listPartitions,
  MONTHS_AHEAD,
  monthStart,
  nextMonth,
  partitionName,
  usageRecordsPartitioned,
} from '../../src/store/usage-partitions.js';
import { UsageRepo } from '../../src/store/usage-repo.js';
import { toBatch } from '../../src/usage/batch.js';
import { runCli } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { insertProjectAndToken, usageRecord, usageRow } from '../helpers/rows.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

const month = (y: number, m: number) => Date.UTC(y, m - 1, 1);
/** Months with records before the migration: one far back, then four in a row over a year's end. */
const MONTHS = [month(2024, 2), month(2025, 11), month(2025, 12), month(2026, 1), month(2026, 2)];

/** PostgreSQL only: SQLite keeps a plain usage_records (the store contract runs there unchanged). */
describe('usage_records partitioned by month on PostgreSQL', () => {
  let tdb: TestDatabase | undefined;
  let db: Db;
  let repo: UsageRepo;
  let tokenId: string;
  let projectId: string;

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    db = openDatabase(tdb.config);
    await migrateToLatest(db);
    repo = new UsageRepo(db);
    ({ projectId, tokenId } = await insertProjectAndToken(db));
  });
  afterAll(async () => {
    await db?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  const row = (createdAt: number, over: Partial<NewUsageRow> = {}) =>
    usageRow(tokenId, projectId, { id: uuidv7(createdAt), created_at: createdAt, ...over });
  /** Which table each record is stored in, by id. */
  const homes = async () =>
    new Map(
      (
        await sql<{ id: string; part: string }>`select id, tableoid::regclass::text as part from usage_records`.execute(
          db,
        )
      ).rows.map((r) => [r.id, r.part]),
    );
  const children = async () =>
    (
      await sql<{ name: string }>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'usage_records'::regclass order by 1`.execute(db)
    ).rows.map((r) => r.name);

  it('migrating keeps every row and the totals, each month in its partition, keyed by (id, created_at)', async () => {
    // Back to the table as 0001-0007 left it, then rows across months, some on a month's edges.
    await db.transaction().execute((trx) => partitioning.down(trx as unknown as Kysely<unknown>));
    expect(await usageRecordsPartitioned(db)).toBe(false);
    const rows: NewUsageRow[] = [];
    for (const from of MONTHS) {
      const span = nextMonth(from) - from;
      rows.push(row(from), row(nextMonth(from) - 1));
      for (let i = 0; i < 598; i++) rows.push(row(from + Math.floor((span * i) / 598), { total_tokens: i }));
    }
    expect(await repo.writeBatch(toBatch(rows))).toBe(rows.length);
    const everything = sql<Record<string, unknown>>`select * from usage_records order by id`;
    const totals = sql<Record<string, unknown>>`select count(*) as n, sum(total_tokens) as tokens,
      sum(cost_nano_usd) as cost, sum(bytes_out) as bytes from usage_records`;
    const before = { rows: (await everything.execute(db)).rows, totals: (await totals.execute(db)).rows };
    expect(before.rows).toHaveLength(3000);

    await db.transaction().execute((trx) => partitioning.up(trx as unknown as Kysely<unknown>));

    expect(await usageRecordsPartitioned(db)).toBe(true);
    expect({ rows: (await everything.execute(db)).rows, totals: (await totals.execute(db)).rows }).toEqual(before);
    // A partition per month that had records, the current month and the ones ahead, and the default.
    const now = monthStart(Date.now());
    const expected = new Set(MONTHS.map(partitionName));
    for (let m = now, i = 0; i <= MONTHS_AHEAD; m = nextMonth(m), i++) expected.add(partitionName(m));
    expect(await children()).toEqual([...expected, DEFAULT_PARTITION].sort());
    // Each record sits in the partition of its month: the first and last millisecond included.
    const home = await homes();
    for (const r of rows) expect(home.get(r.id)).toBe(partitionName(monthStart(r.created_at)));
    const key = await sql<{ col: string }>`select a.attname as col from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = 'usage_records'::regclass and i.indisprimary order by array_position(i.indkey, a.attnum)`.execute(
      db,
    );
    expect(key.rows.map((r) => r.col)).toEqual(['id', 'created_at']);
    const indexes = await sql<{ name: string }>`select indexname as name from pg_indexes
      where tablename = 'usage_records' order by 1`.execute(db);
    expect(indexes.rows.map((r) => r.name)).toEqual([
      'usage_created_at_idx',
      'usage_project_idx',
      'usage_records_pkey',
      'usage_token_idx',
    ]);
    // Writing the same records again (a retried batch) still counts nothing twice.
    const counted = await db.selectFrom('tokens').select('request_count').where('id', '=', tokenId).executeTakeFirst();
    expect(await repo.writeBatch(toBatch(rows.slice(0, 700)))).toBe(0);
    expect(await db.selectFrom('tokens').select('request_count').where('id', '=', tokenId).executeTakeFirst()).toEqual(
      counted,
    );
  });

  it('a record on a month boundary goes to the month that starts there', async () => {
    const edge = month(2026, 3);
    const [first, last] = [row(edge), row(edge - 1)];
    await repo.partitions.run(edge);
    expect(await repo.writeBatch(toBatch([first, last]))).toBe(2);
    const home = await homes();
    expect(home.get(first.id)).toBe('usage_records_p202603');
    expect(home.get(last.id)).toBe('usage_records_p202602');
  });

  it('the job makes the months ahead, and moves records that landed in the default partition', async () => {
    const now = Date.UTC(2031, 0, 15, 12);
    const first = await repo.partitions.run(now);
    expect(first).toEqual({
      created: ['usage_records_p203101', 'usage_records_p203102', 'usage_records_p203103', 'usage_records_p203104'],
      dropped: [],
      moved: 0,
    });
    expect(await children()).toEqual(expect.arrayContaining(first.created));
    expect(await repo.partitions.run(now)).toEqual({ created: [], dropped: [], moved: 0 });

    // No partition for July 2035: the insert does not fail, the record waits in the default.
    const stray = [row(month(2035, 7) + 5), row(month(2035, 7) + 6)];
    expect(await repo.writeBatch(toBatch(stray))).toBe(2);
    expect((await homes()).get(stray[0]?.id as string)).toBe(DEFAULT_PARTITION);
    expect(await repo.partitions.run(now)).toEqual({ created: ['usage_records_p203507'], dropped: [], moved: 2 });
    const home = await homes();
    for (const r of stray) expect(home.get(r.id)).toBe('usage_records_p203507');
    const left = await sql<{ n: string }>`select count(*) as n from ${sql.table(DEFAULT_PARTITION)}`.execute(db);
    expect(Number(left.rows[0]?.n)).toBe(0);
    // Moved, not copied: written again, they are still known.
    expect(await repo.writeBatch(toBatch(stray))).toBe(0);
  });

  it('retention drops whole months and deletes only the older part of the month it falls in', async () => {
    const retainFrom = Date.UTC(2026, 1, 10); // 10 February 2026
    const count = async (where = sql`true`) =>
      Number((await sql<{ n: string }>`select count(*) as n from usage_records where ${where}`.execute(db)).rows[0]?.n);
    const older = await count(sql`created_at < ${retainFrom}`);
    const kept = await count(sql`created_at >= ${retainFrom}`);
    const inFebruary = await count(sql`created_at >= ${month(2026, 2)} and created_at < ${retainFrom}`);
    expect(inFebruary).toBeGreaterThan(0);
    const rollups = await sql`select * from usage_rollups order by bucket_start, model`.execute(db);

    const report = await repo.partitions.run(Date.UTC(2026, 2, 12), retainFrom);
    expect(report.dropped).toEqual([
      'usage_records_p202402',
      'usage_records_p202511',
      'usage_records_p202512',
      'usage_records_p202601',
    ]);
    const left = await children();
    for (const name of report.dropped) expect(left).not.toContain(name);
    expect(left).toContain('usage_records_p202602');
    // The dropped months took their rows with them; February's older part is the DELETE's.
    expect(await count(sql`created_at < ${retainFrom}`)).toBe(inFebruary);
    expect(older - inFebruary).toBe(4 * 600);
    let deleted = 0;
    for (let n = -1; n !== 0; deleted += n) n = await repo.deleteOlderThan(retainFrom, 250);
    expect(deleted).toBe(inFebruary);
    expect(await count(sql`created_at < ${retainFrom}`)).toBe(0);
    expect(await count()).toBe(kept);
    // Statistics come from the rollups, which retention never touches.
    expect((await sql`select * from usage_rollups order by bucket_start, model`.execute(db)).rows).toEqual(
      rollups.rows,
    );
    expect(await repo.partitions.run(Date.UTC(2026, 2, 12), retainFrom)).toEqual({
      created: [],
      dropped: [],
      moved: 0,
    });
  });

  it('time-filtered queries read only the partitions that can hold matching records (EXPLAIN)', async () => {
    const plan = async (q: ReturnType<typeof sql>) =>
      (await sql<{ 'QUERY PLAN': string }>`explain ${q}`.execute(db)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const scanned = (text: string) => [...new Set(text.match(/usage_records_(p\d{6}|default)/g) ?? [])].sort();
    const from = Date.UTC(2026, 1, 20);
    const to = Date.UTC(2026, 2, 5);
    expect(
      scanned(await plan(sql`select count(*) from usage_records where created_at >= ${from} and created_at < ${to}`)),
    ).toEqual(['usage_records_p202602', 'usage_records_p202603']);
    // The retention DELETE (UsageRepo.deleteOlderThan's statement) touches February and the default only.
    const before = Date.UTC(2026, 1, 10);
    const del = await plan(
      sql`delete from usage_records where created_at < ${before} and id in
        (select id from usage_records where created_at < ${before} limit 1000)`,
    );
    expect(scanned(del)).toEqual(['usage_records_default', 'usage_records_p202602']);
    const listed = await listPartitions(db);
    expect(listed.length).toBeGreaterThan(4);
  });
});

/** The maintenance pass of a real server on PostgreSQL, with its clock moved past retention. */
describe('usage retention through the maintenance pass on PostgreSQL', () => {
  const DAY = 86_400_000;
  let tdb: TestDatabase | undefined;
  let st: TestServer | undefined;
  const start = Date.UTC(2028, 1, 10, 12); // 10 February 2028
  const clock = manualClock(start);
  const key = randomBytes(32).toString('base64');

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') return;
    st = await startTestServer(
      {
        DATABASE_URL: tdb.config.url,
        ENCRYPTION_KEY: key,
        MAINTENANCE_INTERVAL_MS: '0',
        USAGE_RETENTION_DAYS: '45',
      },
      clock.now,
    );
  });
  afterAll(async () => {
    await st?.stop();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!st) ctx.skip();
  });

  it('drops the months past USAGE_RETENTION_DAYS, deletes the older days of the month it ends in, keeps the statistics', async () => {
    const { runtime } = (st as TestServer).server;
    const db = runtime.db;
    expect((await runtime.maintenance.runOnce()).errors).toEqual([]); // makes February to May 2028
    // Three months of records written while no pass ran (the job was off, or the database away).
    const ids = new Map<number, string[]>();
    for (const m of [1, 2, 3]) {
      const from = Date.UTC(2028, m, 1);
      ids.set(m, []);
      for (let i = 0; i < 100; i++) {
        const createdAt = from + i * 7 * 3_600_000; // every 7 hours: within the month's first 29 days
        const id = uuidv7(createdAt);
        ids.get(m)?.push(id);
        runtime.usage.record(usageRecord('tok', 'proj', { id, createdAt }));
      }
    }
    await runtime.usage.flush();
    const totals = async () =>
      Promise.all(
        ['', '?group_by=day', '?group_by=model'].map(async (q) => (await st?.manage('GET', `/usage${q}`))?.body),
      );
    const before = await totals();
    expect(before[0].totals.requests).toBe(300);

    clock.advance(Date.UTC(2028, 4, 20, 12) - start); // 20 May 2028: retention keeps from 5 April 12:00
    const retainFrom = clock.now() - 45 * DAY;
    const past = (await listPartitions(db)).filter((p) => p.to <= retainFrom).map((p) => p.name);
    expect(past).toEqual(expect.arrayContaining(['usage_records_p202802', 'usage_records_p202803']));
    const april = await db
      .selectFrom('usage_records')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('created_at', '>=', Date.UTC(2028, 3, 1))
      .where('created_at', '<', retainFrom)
      .executeTakeFirstOrThrow();

    const report = await runtime.maintenance.runOnce();
    expect(report).toMatchObject({
      usage_partitions_dropped: past.length,
      usage_records_deleted: Number(april.n),
      errors: [],
    });
    const left = (await listPartitions(db)).map((p) => p.name);
    for (const name of past) expect(left).not.toContain(name);
    expect(left).toEqual(
      expect.arrayContaining(['usage_records_p202804', 'usage_records_p202805', 'usage_records_p202808']),
    );
    const rest = await db.selectFrom('usage_records').select(['id', 'created_at']).execute();
    expect(rest.every((r) => r.created_at >= retainFrom)).toBe(true);
    expect(rest).toHaveLength(300 - 200 - Number(april.n));
    expect(await totals()).toEqual(before);
    // One request's record by id still answers from any month that is kept.
    const keptId = (ids.get(3) as string[])[99] as string;
    expect((await st?.manage('GET', `/usage/records/${keptId}`))?.status).toBe(200);
    expect((await st?.manage('GET', `/usage/records/${(ids.get(1) as string[])[0]}`))?.status).toBe(404);
    expect(await runtime.maintenance.runOnce()).toMatchObject({
      usage_partitions_dropped: 0,
      usage_records_deleted: 0,
    });
  });

  it('llm-proxy maintenance says how many months it dropped', async () => {
    const { runtime } = (st as TestServer).server;
    await runtime.usageRepo.partitions.run(Date.UTC(2025, 0, 15)); // January to April 2025
    for (let i = 0; i < 10; i++) {
      const createdAt = Date.UTC(2025, 0, 2) + i;
      runtime.usage.record(usageRecord('tok', 'proj', { id: uuidv7(createdAt), createdAt }));
    }
    await runtime.usage.flush();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-partitions-'));
    try {
      const url = tdb?.config.kind === 'postgres' ? tdb.config.url : '';
      const res = await runCli(['maintenance', '--usage-retention-days', '90'], {
        DATABASE_URL: url,
        ENCRYPTION_KEY: key,
        DATA_DIR: dataDir,
      });
      expect(res.stderr).toBe('');
      expect(res.stdout).toContain('older than 90 day(s), and dropped 4 month partition(s) past it');
      const left = (await listPartitions(runtime.db)).map((p) => p.name);
      expect(left.filter((n) => n.startsWith('usage_records_p2025'))).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
