import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage } from './pagination.js';
import type { AdminUserPatch, AdminUserRow } from './schema.js';

/** Persistence of admin users. The password hash is opaque here: src/access/passwords.ts makes and checks it. */
export class AdminUsersRepo {
  constructor(private readonly db: Db) {}

  async insert(row: AdminUserRow): Promise<AdminUserRow> {
    return this.db.insertInto('admin_users').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findById(id: string): Promise<AdminUserRow | undefined> {
    return this.db.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByUsername(username: string): Promise<AdminUserRow | undefined> {
    return this.db.selectFrom('admin_users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async list(page: PageRequest): Promise<Page<AdminUserRow>> {
    let q = this.db
      .selectFrom('admin_users')
      .selectAll()
      .orderBy('id')
      .limit(page.limit + 1);
    const after = decodeCursor(page.cursor);
    if (after) q = q.where('id', '>', after);
    return toPage(await q.execute(), page.limit);
  }

  /** Whether anyone can sign in with a password (an enabled user exists). */
  async anyEnabled(): Promise<boolean> {
    const row = await this.db
      .selectFrom('admin_users')
      .select('id')
      .where('disabled', '=', 0)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async update(id: string, patch: AdminUserPatch): Promise<AdminUserRow | undefined> {
    return this.db.updateTable('admin_users').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('admin_users').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
