import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage } from './pagination.js';
import type { NewProjectKeyRow, ProjectKeyPatch, ProjectKeyRow } from './schema.js';

/**
 * Persistence of a project's upstream keys (migration 0012). No rules here: validation,
 * encryption and the last-enabled-key check happen in projects/. A project's keys are ordered by
 * id (UUIDv7, so by creation): its "first key" is the lowest.
 */
export class ProjectKeysRepo {
  constructor(private readonly db: Db) {}

  async insert(row: NewProjectKeyRow): Promise<ProjectKeyRow> {
    return this.db.insertInto('project_keys').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /** The key, only if it belongs to the project: another project's key id is not found. */
  async find(projectId: string, id: string): Promise<ProjectKeyRow | undefined> {
    return this.db
      .selectFrom('project_keys')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async list(projectId: string, page: PageRequest): Promise<Page<ProjectKeyRow>> {
    let q = this.db
      .selectFrom('project_keys')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('id')
      .limit(page.limit + 1);
    const after = decodeCursor(page.cursor);
    if (after) q = q.where('id', '>', after);
    return toPage(await q.execute(), page.limit);
  }

  /** The project's enabled keys, first key first: what its tokens forward with. */
  async enabledOf(projectId: string): Promise<ProjectKeyRow[]> {
    return this.db
      .selectFrom('project_keys')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
  }

  async first(projectId: string): Promise<ProjectKeyRow | undefined> {
    return this.db
      .selectFrom('project_keys')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  }

  /** All rows of every project, for maintenance commands such as re-encryption. */
  async all(): Promise<ProjectKeyRow[]> {
    return this.db.selectFrom('project_keys').selectAll().orderBy('id').execute();
  }

  async update(projectId: string, id: string, patch: ProjectKeyPatch): Promise<ProjectKeyRow | undefined> {
    return this.db
      .updateTable('project_keys')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /** Replaces the stored key only if it is still `expected`: a concurrent API change wins. */
  async replaceKey(id: string, expected: string, next: string): Promise<boolean> {
    const res = await this.db
      .updateTable('project_keys')
      .set({ key_encrypted: next })
      .where('id', '=', id)
      .where('key_encrypted', '=', expected)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('project_keys')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** How many of the project's keys are enabled, the one given excepted. */
  async enabledOthers(projectId: string, exceptId: string): Promise<number> {
    const row = await this.db
      .selectFrom('project_keys')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('project_id', '=', projectId)
      .where('enabled', '=', 1)
      .where('id', '!=', exceptId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
