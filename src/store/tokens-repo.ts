import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage } from './pagination.js';
import type { NewTokenRow, TokenPatch, TokenRow } from './schema.js';

export interface TokenFilter {
  projectId?: string | undefined;
  active?: boolean | undefined;
}

/** Persistence of tokens (hashes only; the plaintext never reaches the store). */
export class TokensRepo {
  constructor(private readonly db: Db) {}

  async insert(row: NewTokenRow): Promise<TokenRow> {
    return this.db.insertInto('tokens').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findById(id: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByHash(hash: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  async list(filter: TokenFilter, page: PageRequest): Promise<Page<TokenRow>> {
    let q = this.db
      .selectFrom('tokens')
      .selectAll()
      .orderBy('id')
      .limit(page.limit + 1);
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.active !== undefined) q = q.where('is_active', '=', filter.active ? 1 : 0);
    const after = decodeCursor(page.cursor);
    if (after) q = q.where('id', '>', after);
    return toPage(await q.execute(), page.limit);
  }

  async update(id: string, patch: TokenPatch): Promise<TokenRow | undefined> {
    return this.db.updateTable('tokens').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** Revokes every active token of a project; returns the ids it revoked. */
  async revokeByProject(projectId: string, now: number): Promise<string[]> {
    const rows = await this.db
      .updateTable('tokens')
      .set({ is_active: 0, revoked_at: now, updated_at: now })
      .where('project_id', '=', projectId)
      .where('is_active', '=', 1)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async idsByProject(projectId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('tokens').select('id').where('project_id', '=', projectId).execute();
    return rows.map((r) => r.id);
  }
}
