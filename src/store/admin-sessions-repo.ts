import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage } from './pagination.js';
import type { AdminSessionRow } from './schema.js';

/** Persistence of browser sessions; expiry rules live in src/access/sessions-service.ts. */
export class AdminSessionsRepo {
  constructor(private readonly db: Db) {}

  async insert(row: AdminSessionRow): Promise<AdminSessionRow> {
    return this.db.insertInto('admin_sessions').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findByHash(hash: string): Promise<AdminSessionRow | undefined> {
    return this.db.selectFrom('admin_sessions').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
  }

  async findById(id: string): Promise<AdminSessionRow | undefined> {
    return this.db.selectFrom('admin_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Sessions that are still valid at `now` (absolute expiry after it, last seen after `seenAfter`). */
  async listLive(now: number, seenAfter: number, page: PageRequest): Promise<Page<AdminSessionRow>> {
    let q = this.db
      .selectFrom('admin_sessions')
      .selectAll()
      .where('expires_at', '>', now)
      .where('last_seen_at', '>', seenAfter)
      .orderBy('id')
      .limit(page.limit + 1);
    const after = decodeCursor(page.cursor);
    if (after) q = q.where('id', '>', after);
    return toPage(await q.execute(), page.limit);
  }

  /**
   * Moves last_seen_at to `now` unless it was written after `since` (by this or another instance):
   * one write per session per interval, whatever the traffic.
   */
  async touch(id: string, now: number, since: number): Promise<void> {
    await this.db
      .updateTable('admin_sessions')
      .set({ last_seen_at: now })
      .where('id', '=', id)
      .where('last_seen_at', '<=', since)
      .execute();
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('admin_sessions').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Ends every session of a user; returns how many there were. */
  async deleteByUser(userId: string): Promise<number> {
    const res = await this.db.deleteFrom('admin_sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Sessions of a user take a new role (or name) at once. */
  async updateUser(userId: string, patch: { role?: string; username?: string }): Promise<void> {
    await this.db.updateTable('admin_sessions').set(patch).where('user_id', '=', userId).execute();
  }

  /** Deletes sessions past their absolute expiry or idle since before `seenBefore`. */
  async deleteExpired(now: number, seenBefore: number): Promise<number> {
    const res = await this.db
      .deleteFrom('admin_sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', seenBefore)]))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
