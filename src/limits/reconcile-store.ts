import type { Db } from '../store/database.js';
import { hourStart } from '../store/schema.js';
import type { SubjectLimits } from './limits.js';

type Kind = SubjectLimits['kind'];

/** Ids per query: well under SQLite's bound-parameter limit and PostgreSQL's comfort. */
const CHUNK = 500;

/**
 * The database's totals that the Redis counters stand for: request_count of tokens and projects
 * (what the usage writer has counted) and spend from the usage rollups (as UsageRepo.spentSince,
 * the budgets' seed). Read by the reconciliation job and by the Redis limiter's count seed.
 */
export class LimitTotals {
  constructor(private readonly db: Db) {}

  /** One subject's persisted request count (0 when it is gone). */
  async requestCount(kind: Kind, id: string): Promise<number> {
    const row = await this.db
      .selectFrom(kind === 'token' ? 'tokens' : 'projects')
      .select('request_count')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(row?.request_count ?? 0);
  }

  /** Request counts of many subjects of one kind; absent ids (deleted) are left out. */
  async requestCounts(kind: Kind, ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom(kind === 'token' ? 'tokens' : 'projects')
        .select(['id', 'request_count'])
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) out.set(r.id, Number(r.request_count));
    }
    return out;
  }

  /**
   * The requests among `ids` whose usage record is written, with their cost (0 when unpriced): a
   * reservation still open in Redis whose settle has not arrived yet, while the record already has.
   */
  async writtenCosts(ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('usage_records')
        .select(['id', 'cost_nano_usd'])
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) out.set(r.id, Number(r.cost_nano_usd ?? 0));
    }
    return out;
  }

  /** Nano-dollars each subject spent since `from` (rollups from its hour on); 0 for none. */
  async spentSince(kind: Kind, ids: string[], from: number): Promise<Map<string, number>> {
    const col = kind === 'token' ? 'token_id' : 'project_id';
    const out = new Map<string, number>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('usage_rollups')
        .select((eb) => [eb.ref(col).as('id'), eb.fn.sum<number | string | null>('cost_nano_usd').as('spent')])
        .where(col, 'in', ids.slice(i, i + CHUNK))
        .where('bucket_start', '>=', hourStart(from))
        .groupBy(col)
        .execute();
      for (const r of rows) out.set(String(r.id), Number(r.spent ?? 0));
    }
    return out;
  }
}
