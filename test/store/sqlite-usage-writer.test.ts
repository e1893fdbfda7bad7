import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { HOUR, type NewUsageRow } from '../../src/store/schema.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { SqliteUsageWriter } from '../../src/store/sqlite-usage-writer.js';
import { UsageRepo } from '../../src/store/usage-repo.js';
import { toBatch } from '../../src/usage/batch.js';
import { sqliteDatabase, type TestDatabase } from '../helpers/databases.js';
import { projectRow, tokenRow } from '../helpers/rows.js';

/**
 * The usage worker writes with prepared statements (SqliteUsageWriter); PostgreSQL and in-memory
 * SQLite write through Kysely (UsageRepo.writeBatch). The same batches must leave the same tables.
 */
const T0 = Date.UTC(2026, 10, 26, 9, 30);
const PROJECT = '0190a0a0-0000-7000-8000-000000000001';
const TOKENS = ['0190a0a0-0000-7000-8000-0000000000a1', '0190a0a0-0000-7000-8000-0000000000a2'] as const;

/** Both databases get identical rows: the comparison below covers the tokens and projects tables. */
async function seed(db: Db): Promise<void> {
  await migrateToLatest(db);
  await db
    .insertInto('projects')
    .values(projectRow({ id: PROJECT, name: 'p', created_at: T0, updated_at: T0 }))
    .execute();
  for (const [i, id] of TOKENS.entries()) {
    // One token was used later than the batches: last_used_at must not go backwards.
    const lastUsed = i === 1 ? T0 + 10 * HOUR : null;
    await db
      .insertInto('tokens')
      .values(
        tokenRow(PROJECT, { id, token_hash: `hash-${i}`, last_used_at: lastUsed, created_at: T0, updated_at: T0 }),
      )
      .execute();
  }
}

function rows(n: number, offset: number): NewUsageRow[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    const reported = i % 5 !== 0;
    return {
      id: uuidv7(T0 + i * 60_000),
      request_id: `req-${i}`,
      token_id: TOKENS[i % 2] as string,
      project_id: PROJECT,
      method: 'POST',
      path: i % 3 === 0 ? '/v1/embeddings' : '/v1/chat/completions',
      model: i % 7 === 0 ? null : i % 2 === 0 ? 'gpt-4o' : 'gpt-4o-mini',
      status: i % 11 === 0 ? 502 : 200,
      is_stream: i % 2,
      prompt_tokens: reported ? 10 + i : null,
      completion_tokens: reported ? i % 50 : null,
      total_tokens: reported ? 10 + i + (i % 50) : null,
      cached_tokens: reported ? i % 4 : null,
      reasoning_tokens: null,
      finish_reason: reported ? 'stop' : null,
      upstream_ms: i % 9 === 0 ? null : 1.5 * i,
      ttfb_ms: 0.25 * i,
      duration_ms: i % 13 === 0 ? 90_000 : 2.125 * i,
      bytes_in: 100 + i,
      bytes_out: 1000 + i,
      error: i % 11 === 0 ? 'upstream_unavailable' : null,
      cost_nano_usd: reported && i % 7 !== 0 ? 3 * i : null,
      usage_status: reported ? 'reported' : i % 2 === 0 ? 'estimated' : 'missing',
      created_at: T0 + i * 60_000, // spans several hourly buckets
    };
  });
}

const TABLES = [
  ['usage_records', 'id'],
  ['usage_rollups', 'bucket_start, token_id, model'],
  ['usage_latency_rollups', 'bucket_start, token_id, model, le'],
  ['tokens', 'id'],
  ['projects', 'id'],
] as const;

describe('SqliteUsageWriter', () => {
  let viaWorkerDb: TestDatabase;
  let viaRepoDb: TestDatabase;
  let viaWorker: Db;
  let viaRepo: Db;

  beforeAll(async () => {
    viaWorkerDb = sqliteDatabase();
    viaRepoDb = sqliteDatabase();
    viaWorker = openDatabase(viaWorkerDb.config);
    viaRepo = openDatabase(viaRepoDb.config);
    await seed(viaWorker);
    await seed(viaRepo);
  });

  afterAll(async () => {
    await viaWorker.destroy();
    await viaRepo.destroy();
    await viaWorkerDb.drop();
    await viaRepoDb.drop();
  });

  it('leaves the same records, rollups and counters as UsageRepo.writeBatch', async () => {
    // Two batches that overlap in hour, token and model, so the second one's upserts add to the first's.
    const batches = [rows(300, 0), rows(200, 150)];
    const sqlite = openSqlite((viaWorkerDb.config as { path: string }).path);
    const writer = new SqliteUsageWriter(sqlite);
    for (const b of batches) writer.write(toBatch(b));
    sqlite.close();
    const repo = new UsageRepo(viaRepo);
    for (const b of batches) await repo.writeBatch(toBatch(b));

    for (const [table, order] of TABLES) {
      const query = `select * from ${table} order by ${order}`;
      const a = await sql.raw<Record<string, unknown>>(query).execute(viaWorker);
      const b = await sql.raw<Record<string, unknown>>(query).execute(viaRepo);
      expect(a.rows.length, table).toBeGreaterThan(0);
      expect(a.rows, table).toEqual(b.rows);
    }
    const tokens = await viaWorker
      .selectFrom('tokens')
      .select(['id', 'request_count', 'last_used_at'])
      .orderBy('id')
      .execute();
    expect(tokens.map((t) => t.request_count)).toEqual([250, 250]);
    expect(tokens[1]?.last_used_at).toBe(T0 + 10 * HOUR);
  });

  it('writes a batch all or nothing', () => {
    const sqlite = openSqlite((viaWorkerDb.config as { path: string }).path);
    const writer = new SqliteUsageWriter(sqlite);
    const count = () => (sqlite.prepare('select count(*) as n from usage_records').get() as { n: number }).n;
    const before = count();
    const batch = rows(10, 1000);
    (batch[9] as NewUsageRow).token_id = null as unknown as string; // a NOT NULL violation fails the batch
    expect(() => writer.write(toBatch(batch))).toThrow(/NOT NULL/);
    expect(count()).toBe(before);
    sqlite.close();
  });

  it('is idempotent by record id: a record already stored is neither inserted nor counted again', async () => {
    const sqlite = openSqlite((viaWorkerDb.config as { path: string }).path);
    const writer = new SqliteUsageWriter(sqlite);
    const repo = new UsageRepo(viaRepo);
    const state = async (db: Db) =>
      Promise.all(
        TABLES.map(
          async ([table, order]) => (await sql.raw(`select * from ${table} order by ${order}`).execute(db)).rows,
        ),
      );
    const fresh = rows(20, 2000);
    // Half of them were stored before (a retried batch whose commit did land, a replayed journal),
    // and one record comes twice in the same batch.
    expect(writer.write(toBatch(fresh.slice(0, 10)))).toBe(10);
    expect(await repo.writeBatch(toBatch(fresh.slice(0, 10)))).toBe(10);
    const again = [...fresh, fresh[15] as NewUsageRow];
    expect(writer.write(toBatch(again))).toBe(10);
    expect(await repo.writeBatch(toBatch(again))).toBe(10);
    expect(writer.write(toBatch(again))).toBe(0);
    expect(await repo.writeBatch(toBatch(again))).toBe(0);
    sqlite.close();
    // Both writers still agree, and the counters count each record once (250 + 10 per token).
    expect(await state(viaWorker)).toEqual(await state(viaRepo));
    const tokens = await viaWorker.selectFrom('tokens').select('request_count').orderBy('id').execute();
    expect(tokens.map((t) => t.request_count)).toEqual([260, 260]);
  });
});
