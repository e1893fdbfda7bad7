import { sql } from 'kysely';
import type { Db } from './database.js';
import type { NewUsageRow, UsageRow } from './schema.js';

export interface TokenUse {
  tokenId: string;
  requests: number;
  lastUsedAt: number;
}

/** Persistence of usage records and the per-token counters they imply. */
export class UsageRepo {
  constructor(private readonly db: Db) {}

  /**
   * Writes a batch in one transaction: the records, and per token `request_count += n` and
   * `last_used_at`, so counters and records never disagree.
   */
  async writeBatch(rows: NewUsageRow[], uses: TokenUse[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Chunks keep each statement under SQLite's bound-parameter limit.
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .insertInto('usage_records')
          .values(rows.slice(i, i + 500))
          .execute();
      }
      for (const u of uses) {
        await trx
          .updateTable('tokens')
          .set({
            request_count: sql`request_count + ${u.requests}`,
            last_used_at: sql`case when last_used_at is null or last_used_at < cast(${u.lastUsedAt} as bigint) then cast(${u.lastUsedAt} as bigint) else last_used_at end`,
          })
          .where('id', '=', u.tokenId)
          .execute();
      }
    });
  }

  async listByToken(tokenId: string, limit = 100): Promise<UsageRow[]> {
    return this.db
      .selectFrom('usage_records')
      .selectAll()
      .where('token_id', '=', tokenId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
