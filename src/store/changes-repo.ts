import { PostgresAdapter, sql } from 'kysely';
import type { Db } from './database.js';
import type { ChangesTable } from './schema.js';

/** The PostgreSQL channel a committed change is announced on (payload: its seq). */
export const CHANGES_CHANNEL = 'llm_proxy_changes';

/** What a change invalidates: one token, every token of a project, or every cached token. */
export type Change = { kind: 'token'; tokenId: string } | { kind: 'project'; projectId: string } | { kind: 'all' };

/** A change as read back: its place in the log and when it was written (epoch ms, wall time). */
export type ChangeRecord = Change & { seq: number; at: number };

/** Token ids a change names one by one; more than this and the change says `all` instead. */
export const MAX_TOKEN_ROWS = 100;

/** The changes of a write that touched these tokens: one row each, or one `all` when there are many. */
export function tokenChanges(ids: readonly string[]): Change[] {
  if (ids.length > MAX_TOKEN_ROWS) return [{ kind: 'all' }];
  return ids.map((tokenId) => ({ kind: 'token', tokenId }));
}

/**
 * The change log (migration 0007): every management write that alters what a token is admitted
 * with appends its changes here, in its own transaction, and every instance applies what was
 * appended after the last seq it saw (tokens/change-feed.ts).
 *
 * Appends run inside `AuditTrail.change`, whose first statement locks the audit chain's head: the
 * writes that append are serialised, so seqs become visible in the order they were taken and a
 * reader that saw seq N has seen every committed seq below it (a rolled-back write leaves a gap
 * no one fills). On PostgreSQL the append also NOTIFYs, delivered when the transaction commits.
 */
export class ChangesRepo {
  /** The last seq this repo appended (one repo per transaction: the transaction's), to announce after commit. */
  lastAppended: number | undefined;

  constructor(private readonly db: Db) {}

  /** Appends changes in the caller's transaction. Returns the last seq taken (undefined for none). */
  async append(changes: readonly Change[], at: number): Promise<number | undefined> {
    if (changes.length === 0) return undefined;
    // Outside a transaction, the ordering above would not hold.
    if (!this.db.isTransaction) throw new Error('changes are appended inside the write they describe');
    const rows = await this.db
      .insertInto('changes')
      .values(changes.map((c) => toRow(c, at)))
      .returning('seq')
      .execute();
    const last = Math.max(...rows.map((r) => r.seq));
    this.lastAppended = last;
    if (this.db.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select pg_notify(${CHANGES_CHANNEL}, ${String(last)})`.execute(this.db);
    }
    return last;
  }

  /** Changes after `seq`, oldest first, at most `limit` (an index range on the primary key). */
  async after(seq: number, limit: number): Promise<ChangeRecord[]> {
    const rows = await this.db
      .selectFrom('changes')
      .selectAll()
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  /** The last seq taken (0 for an empty log). */
  async latest(): Promise<number> {
    const row = await this.db
      .selectFrom('changes')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  /** Deletes up to `limit` changes written before `before` (seqs are never reused); returns how many went. */
  async deleteBefore(before: number, limit: number): Promise<number> {
    const res = await this.db
      .deleteFrom('changes')
      .where('seq', 'in', (eb) => eb.selectFrom('changes').select('seq').where('at', '<', before).limit(limit))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

function toRow(c: Change, at: number): Omit<ChangesTable, 'seq'> {
  return {
    kind: c.kind,
    token_id: c.kind === 'token' ? c.tokenId : null,
    project_id: c.kind === 'project' ? c.projectId : null,
    at,
  };
}

function fromRow(r: { seq: number; kind: string; token_id: string | null; project_id: string | null; at: number }) {
  const head = { seq: Number(r.seq), at: Number(r.at) };
  if (r.kind === 'token' && r.token_id !== null) return { ...head, kind: 'token', tokenId: r.token_id } as const;
  if (r.kind === 'project' && r.project_id !== null) {
    return { ...head, kind: 'project', projectId: r.project_id } as const;
  }
  // Unknown kinds (a newer version's) are applied as the safest thing: drop everything.
  return { ...head, kind: 'all' } as const;
}
