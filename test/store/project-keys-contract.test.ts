import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import * as m0012 from '../../src/store/migrations/0012-project-keys.js';
import { ProjectKeysRepo } from '../../src/store/project-keys-repo.js';
import { ProjectsRepo } from '../../src/store/projects-repo.js';
import type { NewProjectKeyRow } from '../../src/store/schema.js';
import { isUniqueViolation } from '../../src/store/store-errors.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { projectRow } from '../helpers/rows.js';

const keyRow = (projectId: string, over: Partial<NewProjectKeyRow> = {}): NewProjectKeyRow => ({
  id: uuidv7(),
  project_id: projectId,
  name: `k-${Math.random().toString(36).slice(2, 8)}`,
  key_encrypted: 'v1:k:iv:tag:ct',
  key_hint: 'sk-…wxyz',
  base_url: null,
  auth_style: 'bearer',
  weight: 1,
  enabled: 1,
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_000,
  ...over,
});

/** A project's upstream keys: the same contract on SQLite and PostgreSQL. */
describe.each(DIALECTS)('project keys on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let db: Db;
  let projects: ProjectsRepo;
  let keys: ProjectKeysRepo;

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    db = openDatabase(tdb.config);
    await migrateToLatest(db);
    projects = new ProjectsRepo(db);
    keys = new ProjectKeysRepo(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  it("the migration copies each project's key, still encrypted, as its key 'primary'", async () => {
    const p = await projects.insert(
      projectRow({ api_key_encrypted: 'v1:k:iv:tag:secret-a', api_key_hint: 'sk-…aaaa' }),
    );
    const anyDb = db as unknown as Kysely<unknown>;
    await m0012.down(anyDb);
    await m0012.up(anyDb);
    const copied = (await keys.list(p.id, { limit: 10 })).rows;
    expect(copied).toHaveLength(1);
    expect(copied[0]).toMatchObject({
      project_id: p.id,
      name: 'primary',
      key_encrypted: 'v1:k:iv:tag:secret-a',
      key_hint: 'sk-…aaaa',
      base_url: null,
      auth_style: 'bearer',
      weight: 1,
      enabled: 1,
      created_at: p.created_at,
    });
  });

  it('inserts, finds, lists in creation order with a cursor, updates and deletes', async () => {
    const p = await projects.insert(projectRow());
    const a = await keys.insert(keyRow(p.id, { name: 'a' }));
    const b = await keys.insert(
      keyRow(p.id, { name: 'b', auth_style: 'api-key', base_url: 'http://azure', weight: 5 }),
    );
    const c = await keys.insert(keyRow(p.id, { name: 'c', enabled: 0 }));
    expect((await keys.enabledOf(p.id)).map((r) => r.name)).toEqual(['a', 'b']);
    expect(b).toMatchObject({ name: 'b', auth_style: 'api-key', base_url: 'http://azure', weight: 5, enabled: 1 });
    expect(await keys.find(p.id, b.id)).toEqual(b);
    expect((await keys.first(p.id))?.id).toBe(a.id);

    const page1 = await keys.list(p.id, { limit: 2 });
    expect(page1.rows.map((r) => r.name)).toEqual(['a', 'b']);
    const page2 = await keys.list(p.id, { limit: 2, cursor: page1.nextCursor ?? undefined });
    expect(page2.rows.map((r) => r.name)).toEqual(['c']);
    expect(page2.nextCursor).toBeNull();

    expect(await keys.enabledOthers(p.id, a.id)).toBe(1);
    const updated = await keys.update(p.id, c.id, { enabled: 1, weight: 3, updated_at: 2 });
    expect(updated).toMatchObject({ enabled: 1, weight: 3, updated_at: 2 });
    expect(await keys.enabledOthers(p.id, a.id)).toBe(2);

    expect(await keys.replaceKey(a.id, 'not-what-is-stored', 'next')).toBe(false);
    expect(await keys.replaceKey(a.id, a.key_encrypted, 'next')).toBe(true);
    expect((await keys.find(p.id, a.id))?.key_encrypted).toBe('next');

    expect(await keys.delete(p.id, a.id)).toBe(true);
    expect(await keys.delete(p.id, a.id)).toBe(false);
    expect((await keys.first(p.id))?.id).toBe(b.id);
  });

  it("never finds, updates or deletes another project's key through this project", async () => {
    const mine = await projects.insert(projectRow());
    const theirs = await projects.insert(projectRow());
    const k = await keys.insert(keyRow(theirs.id));
    expect(await keys.find(mine.id, k.id)).toBeUndefined();
    expect(await keys.update(mine.id, k.id, { enabled: 0 })).toBeUndefined();
    expect(await keys.delete(mine.id, k.id)).toBe(false);
    expect(await keys.find(theirs.id, k.id)).toMatchObject({ enabled: 1 });
  });

  it('refuses a second key of the same name in one project, allows it in another', async () => {
    const p = await projects.insert(projectRow());
    const q = await projects.insert(projectRow());
    await keys.insert(keyRow(p.id, { name: 'same' }));
    const err = await keys.insert(keyRow(p.id, { name: 'same' })).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    await expect(keys.insert(keyRow(q.id, { name: 'same' }))).resolves.toMatchObject({ name: 'same' });
  });

  it('deleting a project deletes its keys', async () => {
    const p = await projects.insert(projectRow());
    await keys.insert(keyRow(p.id));
    await projects.delete(p.id);
    expect((await keys.list(p.id, { limit: 10 })).rows).toEqual([]);
  });
});
