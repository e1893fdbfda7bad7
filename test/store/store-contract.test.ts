import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { AdminSessionsRepo } from '../../src/store/admin-sessions-repo.js';
import { AdminUsersRepo } from '../../src/store/admin-users-repo.js';
import { type Db, openDatabase, pingDatabase } from '../../src/store/database.js';
import { migrateToLatest, pendingMigrations } from '../../src/store/migrate.js';
import { ProjectsRepo } from '../../src/store/projects-repo.js';
import { isUniqueViolation } from '../../src/store/store-errors.js';
import { TokensRepo } from '../../src/store/tokens-repo.js';
import { UsageRepo } from '../../src/store/usage-repo.js';
import { toBatch } from '../../src/usage/batch.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { projectRow as project, tokenRow as token, usageRow } from '../helpers/rows.js';

const ALL_MIGRATIONS = [
  '0001-initial',
  '0002-usage-records',
  '0003-limits-and-rollups',
  '0004-max-concurrent',
  '0005-audit-events',
  '0006-admin-access',
  '0007-changes',
  '0008-usage-partitions',
  '0009-leases',
  '0010-limit-counters',
  '0011-instances',
  '0012-project-keys',
  '0013-retries',
  '0014-cache',
  '0015-idempotency-keys',
  '0016-key-http2',
  '0018-billed-units',
];
/** One contract, every dialect: the same assertions run on SQLite and PostgreSQL. */
describe.each(DIALECTS)('store on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let db: Db;
  let projects: ProjectsRepo;
  let tokens: TokensRepo;

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    db = openDatabase(tdb.config);
    projects = new ProjectsRepo(db);
    tokens = new TokensRepo(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  it('migrates an empty database to the latest schema, then has nothing pending', async () => {
    expect(await pendingMigrations(db)).toEqual(ALL_MIGRATIONS);
    expect(await migrateToLatest(db)).toEqual(ALL_MIGRATIONS);
    expect(await pendingMigrations(db)).toEqual([]);
    expect(await migrateToLatest(db)).toEqual([]);
    await pingDatabase(db);
  });

  it('creates the required token indexes', async () => {
    const names =
      tdb?.config.kind === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(db)).rows
        : (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'tokens'`.execute(db))
            .rows;
    const all = names.map((r) => r.name);
    for (const idx of [
      'tokens_token_hash_uq',
      'tokens_project_id_idx',
      'tokens_expires_at_idx',
      'tokens_is_active_idx',
    ]) {
      expect(all).toContain(idx);
    }
  });

  it('inserts, finds, updates and deletes projects; names are unique', async () => {
    const row = await projects.insert(project({ name: 'alpha', base_url: 'http://up' }));
    expect(row).toMatchObject({ name: 'alpha', is_active: 1, created_at: 1_700_000_000_000, base_url: 'http://up' });
    expect(await projects.findById(row.id)).toEqual(row);
    expect(await projects.findByName('alpha')).toEqual(row);
    expect(await projects.findById(uuidv7())).toBeUndefined();

    const err = await projects.insert(project({ name: 'alpha' })).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);

    const updated = await projects.update(row.id, { name: 'alpha2', is_active: 0, updated_at: 1_800_000_000_000 });
    expect(updated).toMatchObject({ name: 'alpha2', is_active: 0, updated_at: 1_800_000_000_000 });
    expect(await projects.update(uuidv7(), { name: 'x' })).toBeUndefined();

    expect(await projects.delete(row.id)).toBe(true);
    expect(await projects.delete(row.id)).toBe(false);
    expect(await projects.findById(row.id)).toBeUndefined();
  });

  it('pages through projects with a cursor, in creation order, without gaps or repeats', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await projects.insert(project())).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await projects.list({ limit: 3, cursor });
      seen.push(...page.rows.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(seen.filter((id) => created.includes(id))).toEqual(created);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('stores tokens by hash, filters lists, and keeps token hashes unique', async () => {
    const p = await projects.insert(project());
    const other = await projects.insert(project());
    const t1 = await tokens.insert(
      token(p.id, { token_hash: 'hash-1', max_requests: 5, expires_at: 1_900_000_000_000 }),
    );
    await tokens.insert(token(p.id, { is_active: 0 }));
    await tokens.insert(token(other.id));
    expect(t1).toMatchObject({ request_count: 0, max_requests: 5, expires_at: 1_900_000_000_000, last_used_at: null });
    expect(await tokens.findByHash('hash-1')).toEqual(t1);
    expect(await tokens.findById(t1.id)).toEqual(t1);
    expect(await tokens.findByHash('nope')).toBeUndefined();

    const err = await tokens.insert(token(p.id, { token_hash: 'hash-1' })).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);

    expect((await tokens.list({ projectId: p.id }, { limit: 10 })).rows).toHaveLength(2);
    expect((await tokens.list({ projectId: p.id, active: true }, { limit: 10 })).rows.map((r) => r.id)).toEqual([
      t1.id,
    ]);
    expect((await tokens.list({ projectId: p.id, active: false }, { limit: 10 })).rows).toHaveLength(1);
    const page1 = await tokens.list({ projectId: p.id }, { limit: 1 });
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await tokens.list({ projectId: p.id }, { limit: 1, cursor: page1.nextCursor ?? undefined });
    expect(page2.rows[0]?.id).not.toBe(page1.rows[0]?.id);
    expect(page2.nextCursor).toBeNull();

    const upd = await tokens.update(t1.id, { name: 'ci', max_requests: null, updated_at: 1_800_000_000_001 });
    expect(upd).toMatchObject({ name: 'ci', max_requests: null, updated_at: 1_800_000_000_001 });
    expect(await tokens.update(uuidv7(), { name: 'x' })).toBeUndefined();
  });

  it('revokes all active tokens of a project and only those', async () => {
    const p = await projects.insert(project());
    const other = await projects.insert(project());
    const a = await tokens.insert(token(p.id));
    const b = await tokens.insert(token(p.id));
    await tokens.insert(token(p.id, { is_active: 0 }));
    const keep = await tokens.insert(token(other.id));
    const revoked = await tokens.revokeByProject(p.id, 1_850_000_000_000);
    expect(revoked.sort()).toEqual([a.id, b.id].sort());
    expect(await tokens.findById(a.id)).toMatchObject({ is_active: 0, revoked_at: 1_850_000_000_000 });
    expect(await tokens.findById(keep.id)).toMatchObject({ is_active: 1, revoked_at: null });
    expect(await tokens.revokeByProject(p.id, 1)).toEqual([]);
    expect((await tokens.idsByProject(p.id)).length).toBe(3);
  });

  it('deleting a project cascades to its tokens', async () => {
    const p = await projects.insert(project());
    const t = await tokens.insert(token(p.id));
    await projects.delete(p.id);
    expect(await tokens.findById(t.id)).toBeUndefined();
    expect(await tokens.idsByProject(p.id)).toEqual([]);
  });

  it('writes usage batches and advances request_count and last_used_at in the same transaction', async () => {
    const usage = new UsageRepo(db);
    const p = await projects.insert(project());
    const t = await tokens.insert(token(p.id));
    const rec = (i: number) =>
      usageRow(t.id, p.id, {
        request_id: `r${i}`,
        is_stream: i % 2,
        cost_micro_usd: i % 10 === 0 ? null : 7,
        created_at: 1_700_000_000_000 + i * 10_000,
      });
    const rows = Array.from({ length: 1200 }, (_, i) => rec(i));
    await usage.writeBatch(toBatch(rows));
    // A second batch adds to the same hour's rollup (upsert) and must not move last_used_at back.
    await usage.writeBatch(
      toBatch([{ ...rec(1199), id: uuidv7(), request_id: 'r-late', created_at: 1_700_000_000_000 }]),
    );
    expect(await tokens.findById(t.id)).toMatchObject({
      request_count: 1201,
      last_used_at: 1_700_000_000_000 + 1199 * 10_000,
    });
    expect(await projects.findById(p.id)).toMatchObject({ request_count: 1201 });
    const latest = await usage.listByToken(t.id, 2);
    expect(latest).toHaveLength(2);
    expect(latest[0]).toMatchObject({ request_id: 'r-late', duration_ms: 3.125, upstream_ms: 1.5, bytes_out: 200 });

    const rollups = await db.selectFrom('usage_rollups').selectAll().where('token_id', '=', t.id).execute();
    expect(rollups.reduce((a, r) => a + r.requests, 0)).toBe(1201);
    expect(rollups.reduce((a, r) => a + r.total_tokens, 0)).toBe(1201 * 15);
    expect(rollups.reduce((a, r) => a + r.unpriced_requests, 0)).toBe(120);
    expect(rollups.reduce((a, r) => a + r.cost_micro_usd, 0)).toBe((1200 - 120) * 7 + 7);
    expect(new Set(rollups.map((r) => r.bucket_start)).size).toBe(rollups.length);
    expect(await usage.spentSince('token', t.id, 0)).toBe((1200 - 120) * 7 + 7);
    expect(await usage.spentSince('project', p.id, 1_700_000_000_000 + 3_600_000)).toBeLessThan((1200 - 120) * 7);
    const latency = await db.selectFrom('usage_latency_rollups').selectAll().where('token_id', '=', t.id).execute();
    expect(latency.reduce((a, r) => a + r.count, 0)).toBe(1201);

    expect(await usage.deleteOlderThan(1_700_000_000_000 + 100 * 10_000, 1000)).toBe(101);
    expect((await usage.listByToken(t.id, 5000)).length).toBe(1100);
    // Retention deletes raw records only: rollups stay.
    const after = await db.selectFrom('usage_rollups').selectAll().where('token_id', '=', t.id).execute();
    expect(after.reduce((a, r) => a + r.requests, 0)).toBe(1201);
  });

  it('refuses a token for a project that does not exist (foreign key)', async () => {
    await expect(tokens.insert(token(uuidv7()))).rejects.toThrow();
  });

  it('keeps admin users unique by name, and sessions by secret hash; touches last-seen only when due; deletes ended sessions', async () => {
    const users = new AdminUsersRepo(db);
    const sessions = new AdminSessionsRepo(db);
    const t = 1_800_000_000_000;
    const u = { id: uuidv7(t), username: 'contract', role: 'viewer', password_hash: 'h', disabled: 0 };
    await users.insert({ ...u, last_sign_in_at: null, created_at: t, updated_at: t });
    const twin = users.insert({ ...u, id: uuidv7(t), last_sign_in_at: null, created_at: t, updated_at: t });
    expect(isUniqueViolation(await twin.catch((e: unknown) => e))).toBe(true);
    expect(await users.anyEnabled()).toBe(true);

    const row = (id: string, hash: string, seen: number, expires: number) => ({
      id,
      secret_hash: hash,
      secret_hint: 'abcd',
      user_id: u.id,
      username: u.username,
      role: u.role,
      method: 'password',
      client_ip: null,
      user_agent: null,
      created_at: t,
      last_seen_at: seen,
      expires_at: expires,
    });
    const live = await sessions.insert(row(uuidv7(t), 'hash-live', t, t + 3_600_000));
    await sessions.insert(row(uuidv7(t + 1), 'hash-idle', t - 31 * 60_000, t + 3_600_000));
    await sessions.insert(row(uuidv7(t + 2), 'hash-over', t, t - 1));
    const dup = sessions.insert(row(uuidv7(t + 3), 'hash-live', t, t + 1));
    expect(isUniqueViolation(await dup.catch((e: unknown) => e))).toBe(true);

    // Written only when last-seen is at or before `since`: a second instance's touch adds no write.
    await sessions.touch(live.id, t + 30_000, t + 30_000 - 60_000);
    expect((await sessions.findByHash('hash-live'))?.last_seen_at).toBe(t);
    await sessions.touch(live.id, t + 60_000, t);
    expect((await sessions.findByHash('hash-live'))?.last_seen_at).toBe(t + 60_000);

    const listed = await sessions.listLive(t, t - 30 * 60_000, { limit: 10 });
    expect(listed.rows.map((r) => r.secret_hash)).toEqual(['hash-live']);
    expect(await sessions.deleteExpired(t, t - 30 * 60_000)).toBe(2);
    await sessions.updateUser(u.id, { role: 'admin' });
    expect((await sessions.findById(live.id))?.role).toBe('admin');
    expect(await sessions.deleteByUser(u.id)).toBe(1);
  });
});
