import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/store/database.js';
import { type InstanceRow, InstancesRepo } from '../../src/store/instances-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';

const row = (id: string, over: Partial<InstanceRow> = {}): InstanceRow => ({
  id,
  host: 'h',
  pid: 1,
  worker: null,
  version: '0.1.0',
  listen: null,
  started_at: 1_000,
  last_seen_at: 2_000,
  in_flight: 0,
  draining: 0,
  database_state: 'ok',
  redis_state: null,
  ...over,
});

/** The instances registry's rows: the same contract on SQLite and PostgreSQL. */
describe.each(DIALECTS)('instances on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let db: Db;
  let repo: InstancesRepo;

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    db = openDatabase(tdb.config);
    await migrateToLatest(db);
    repo = new InstancesRepo(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await tdb?.drop();
  });
  beforeEach(async (ctx) => {
    if (!tdb) return ctx.skip();
    await db.deleteFrom('instances').execute();
  });

  it('upserts: a second heartbeat replaces the row, every column as given', async () => {
    await repo.upsert(row('a'));
    const beat = row('a', {
      worker: 1,
      listen: 'http://x:8080',
      last_seen_at: 1_765_000_000_123,
      in_flight: 7,
      draining: 1,
      database_state: 'failing: timeout (57014)',
      redis_state: 'failing',
    });
    await repo.upsert(beat);
    expect(await repo.list()).toEqual([beat]);
  });

  it('lists oldest start first, and deletes one row or those last seen before a time', async () => {
    await repo.upsert(row('late', { started_at: 3_000, last_seen_at: 9_000 }));
    await repo.upsert(row('early', { started_at: 1_000, last_seen_at: 5_000 }));
    await repo.upsert(row('mid', { started_at: 2_000, last_seen_at: 7_000 }));
    expect((await repo.list()).map((r) => r.id)).toEqual(['early', 'mid', 'late']);
    expect(await repo.deleteSeenBefore(7_000)).toBe(1);
    expect(await repo.delete('mid')).toBe(true);
    expect(await repo.delete('mid')).toBe(false);
    expect((await repo.list()).map((r) => r.id)).toEqual(['late']);
  });
});
