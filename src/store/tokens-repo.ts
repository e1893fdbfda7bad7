import { sql } from 'kysely';
import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage } from './pagination.js';
import type { NewTokenRow, TokenPatch, TokenRow } from './schema.js';
import { inTransaction } from './transaction.js';

export interface TokenFilter {
  projectId?: string | undefined;
  active?: boolean | undefined;
}

/** Which active tokens a bulk revocation applies to; every given condition must hold. */
export interface RevokeFilter {
  projectId?: string | undefined;
  /** Names that start with this text (compared exactly, case-sensitively). */
  namePrefix?: string | undefined;
  ids?: readonly string[] | undefined;
  /** Only tokens whose expires_at is at or before this time. */
  expiredAt?: number | undefined;
}

/** Persistence of tokens (hashes only; the plaintext never reaches the store). */
export class TokensRepo {
  constructor(private readonly db: Db) {}

  async insert(row: NewTokenRow): Promise<TokenRow> {
    return this.db.insertInto('tokens').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /** Inserts many tokens in one transaction (the caller's, if it is in one): all are created or none. */
  async insertMany(rows: NewTokenRow[]): Promise<TokenRow[]> {
    return inTransaction(this.db, async (trx) => {
      const out: TokenRow[] = [];
      // Chunks keep each statement under SQLite's bound-parameter limit.
      for (let i = 0; i < rows.length; i += 100) {
        out.push(
          ...(await trx
            .insertInto('tokens')
            .values(rows.slice(i, i + 100))
            .returningAll()
            .execute()),
        );
      }
      return out;
    });
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

  /** Revokes the active tokens matching every condition of the filter; returns the ids it revoked. */
  async revokeWhere(filter: RevokeFilter, now: number): Promise<string[]> {
    let q = this.db
      .updateTable('tokens')
      .set({ is_active: 0, revoked_at: now, updated_at: now })
      .where('is_active', '=', 1);
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
    if (filter.namePrefix !== undefined) {
      // substr rather than LIKE: no wildcard escaping, and the same case-sensitivity in both dialects.
      q = q.where(sql`substr(name, 1, ${filter.namePrefix.length})`, '=', filter.namePrefix);
    }
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return [];
      q = q.where('id', 'in', filter.ids);
    }
    if (filter.expiredAt !== undefined) q = q.where('expires_at', '<=', filter.expiredAt);
    const rows = await q.returning('id').execute();
    return rows.map((r) => r.id);
  }

  /**
   * Deactivates up to `limit` active tokens whose expiry has passed (is_active = 0, revoked_at left
   * null, so they still show as expired rather than revoked); returns their ids.
   */
  async deactivateExpired(now: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .updateTable('tokens')
      .set({ is_active: 0, updated_at: now })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('tokens')
          .select('id')
          .where('is_active', '=', 1)
          .where('expires_at', 'is not', null)
          .where('expires_at', '<=', now)
          .limit(limit),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Deletes up to `limit` tokens that were revoked or expired before `before`; returns their ids. */
  async deleteEndedBefore(before: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('tokens')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('tokens')
          .select('id')
          .where((w) =>
            w.or([
              w.and([w('revoked_at', 'is not', null), w('revoked_at', '<', before)]),
              w.and([w('expires_at', 'is not', null), w('expires_at', '<', before)]),
            ]),
          )
          .limit(limit),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async idsByProject(projectId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('tokens').select('id').where('project_id', '=', projectId).execute();
    return rows.map((r) => r.id);
  }
}
