import { sql } from 'kysely';
import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage } from './pagination.js';
import type { NewProjectRow, ProjectPatch, ProjectRow } from './schema.js';
import { containsIgnoringCase } from './text-match.js';

export interface ProjectFilter {
  /** Names containing this text, ignoring case. */
  nameContains?: string | undefined;
}

/** Persistence of projects. No rules here: validation and encryption happen in projects/. */
export class ProjectsRepo {
  constructor(private readonly db: Db) {}

  async insert(row: NewProjectRow): Promise<ProjectRow> {
    return this.db.insertInto('projects').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findById(id: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByName(name: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async list(page: PageRequest, filter: ProjectFilter = {}): Promise<Page<ProjectRow>> {
    let q = this.db
      .selectFrom('projects')
      .selectAll()
      .orderBy('id')
      .limit(page.limit + 1);
    if (filter.nameContains) q = q.where(containsIgnoringCase(sql.ref('name'), filter.nameContains));
    const after = decodeCursor(page.cursor);
    if (after) q = q.where('id', '>', after);
    return toPage(await q.execute(), page.limit);
  }

  /** All rows, for maintenance commands such as re-encryption. */
  async all(): Promise<ProjectRow[]> {
    return this.db.selectFrom('projects').selectAll().orderBy('id').execute();
  }

  async update(id: string, patch: ProjectPatch): Promise<ProjectRow | undefined> {
    return this.db.updateTable('projects').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** Replaces the stored key only if it is still `expected`: a concurrent API change wins. */
  async replaceKey(id: string, expected: string, next: string): Promise<boolean> {
    const res = await this.db
      .updateTable('projects')
      .set({ api_key_encrypted: next })
      .where('id', '=', id)
      .where('api_key_encrypted', '=', expected)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Deletes the project; its tokens go with it (foreign key ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('projects').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
