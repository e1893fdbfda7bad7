import { type Expression, type ExpressionBuilder, sql } from 'kysely';
import type { Db } from './database.js';
import { decodeCursor, type Page, type PageRequest, toPage, toPageBy } from './pagination.js';
import type { Database, NewTokenRow, TokenPatch, TokenRow } from './schema.js';
import { containsIgnoringCase } from './text-match.js';
import { inTransaction } from './transaction.js';

/** A token's state as the API shows it (token-view.ts decides it the same way, row by row). */
export type TokenStatus = 'active' | 'expired' | 'revoked' | 'exhausted';

/** What a token list may be sorted by; `created` (the id) is the default and the tie-breaker of the others. */
export type TokenSort = 'created' | 'name' | 'expires_at' | 'last_used_at' | 'request_count';

export interface TokenFilter {
  projectId?: string | undefined;
  active?: boolean | undefined;
  /** With `now`: the status each token has at that time. */
  status?: TokenStatus | undefined;
  /** Tokens with an expiry before this time (epoch ms), e.g. "expiring within a week". */
  expiresBefore?: number | undefined;
  /** Names containing this text, ignoring case. */
  nameContains?: string | undefined;
  /** The time `status` is judged at. */
  now?: number | undefined;
}

export interface TokenOrder {
  sort: TokenSort;
  desc: boolean;
}

type TokenEb = ExpressionBuilder<Database, 'tokens'>;

/**
 * The sort key of each order, never null (a null would fall out of the keyset comparison): no
 * expiry sorts after every expiry, never used before every use, no name as ''.
 */
const SORT_KEYS: Record<Exclude<TokenSort, 'created'>, Expression<unknown>> = {
  name: sql`coalesce(name, '')`,
  expires_at: sql`coalesce(expires_at, ${sql.lit(Number.MAX_SAFE_INTEGER)})`,
  last_used_at: sql`coalesce(last_used_at, 0)`,
  request_count: sql`request_count`,
};

/** The SQL of each status, the same decision as token-view.ts's tokenStatus. */
function statusWhere(eb: TokenEb, status: TokenStatus, now: number) {
  const notExpired = eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);
  switch (status) {
    case 'revoked':
      return eb.and([
        eb('is_active', '=', 0),
        eb.or([eb('revoked_at', 'is not', null), eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
      ]);
    case 'expired':
      return eb.and([
        eb.or([eb('is_active', '=', 1), eb('revoked_at', 'is', null)]),
        eb('expires_at', 'is not', null),
        eb('expires_at', '<=', now),
      ]);
    case 'exhausted':
      return eb.and([
        eb('is_active', '=', 1),
        notExpired,
        eb('max_requests', 'is not', null),
        eb('request_count', '>=', eb.ref('max_requests')),
      ]);
    case 'active':
      return eb.and([
        eb('is_active', '=', 1),
        notExpired,
        eb.or([eb('max_requests', 'is', null), eb('request_count', '<', eb.ref('max_requests'))]),
      ]);
  }
}

/** The cursor of a sorted page: the last row's sort key and id (JSON), base64url-encoded like every cursor. */
export function decodeSortCursor(cursor: string | undefined): [string | number, string] | undefined {
  const text = decodeCursor(cursor);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (Array.isArray(v) && v.length === 2 && ['string', 'number'].includes(typeof v[0]) && typeof v[1] === 'string') {
      return v as [string | number, string];
    }
  } catch {
    // not a sorted cursor
  }
  return undefined;
}

const sortValue = (row: TokenRow, sort: Exclude<TokenSort, 'created'>): string | number => {
  switch (sort) {
    case 'name':
      return row.name ?? '';
    case 'expires_at':
      return row.expires_at ?? Number.MAX_SAFE_INTEGER;
    case 'last_used_at':
      return row.last_used_at ?? 0;
    case 'request_count':
      return row.request_count;
  }
};

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

  /**
   * A page of tokens matching every condition of the filter, in the given order. Keyset paging:
   * the cursor holds the last row's sort key and id, so a page costs the same however deep it is
   * and rows that change between pages are neither repeated nor skipped by position.
   */
  async list(
    filter: TokenFilter,
    page: PageRequest,
    order: TokenOrder = { sort: 'created', desc: false },
  ): Promise<Page<TokenRow>> {
    const dir = order.desc ? 'desc' : 'asc';
    let q = this.db
      .selectFrom('tokens')
      .selectAll()
      .limit(page.limit + 1);
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.active !== undefined) q = q.where('is_active', '=', filter.active ? 1 : 0);
    if (filter.status !== undefined) {
      const { status } = filter;
      const now = filter.now ?? Date.now();
      q = q.where((eb) => statusWhere(eb, status, now));
    }
    if (filter.expiresBefore !== undefined) {
      q = q.where('expires_at', 'is not', null).where('expires_at', '<', filter.expiresBefore);
    }
    if (filter.nameContains) {
      q = q.where(containsIgnoringCase(sql.ref('name'), filter.nameContains));
    }
    if (order.sort === 'created') {
      q = q.orderBy('id', dir);
      const after = decodeCursor(page.cursor);
      if (after) q = q.where('id', order.desc ? '<' : '>', after);
      return toPage(await q.execute(), page.limit);
    }
    const key = SORT_KEYS[order.sort];
    q = q.orderBy(key, dir).orderBy('id', dir);
    const after = decodeSortCursor(page.cursor);
    if (after) q = q.where(sql<boolean>`(${key}, id) ${sql.raw(order.desc ? '<' : '>')} (${after[0]}, ${after[1]})`);
    const sort = order.sort;
    return toPageBy(await q.execute(), page.limit, (r) => JSON.stringify([sortValue(r, sort), r.id]));
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
