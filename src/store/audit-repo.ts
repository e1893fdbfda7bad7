import { sql } from 'kysely';
import type { Db } from './database.js';
import { decodeCursor, type Page, toPageBy } from './pagination.js';
import type { AuditEventRow } from './schema.js';

/** The end of the chain: the last event's seq and hash (0 and '' before the first event). */
export interface ChainHead {
  seq: number;
  hash: string;
}

export interface AuditFilter {
  /** Any of these actions, as stored (src/audit/action-filter.ts turns a pattern into them). */
  actions?: readonly string[] | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  actorType?: string | undefined;
  actorId?: string | undefined;
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  /** Epoch ms, exclusive. */
  to?: number | undefined;
}

const HEAD = 'main';
/** Rows per INSERT: well under SQLite's bound-parameter limit at 15 columns. */
const CHUNK = 100;

/**
 * Persistence of the audit trail. Appends run inside a transaction that took the head's lock first
 * (`lockHead`); the sealing (hashes) happens in src/audit, the store only keeps what it is given.
 */
export class AuditRepo {
  constructor(private readonly db: Db) {}

  /**
   * Locks the chain's head and returns it. Must be the transaction's first statement: an UPDATE,
   * so PostgreSQL holds the row lock (other appenders wait) and SQLite takes its write lock at once
   * (a transaction that read first could not upgrade once another connection had written).
   */
  async lockHead(): Promise<ChainHead> {
    return this.db
      .updateTable('audit_chain')
      .set((eb) => ({ seq: eb.ref('seq') }))
      .where('id', '=', HEAD)
      .returning(['seq', 'hash'])
      .executeTakeFirstOrThrow();
  }

  async head(): Promise<ChainHead> {
    return this.db.selectFrom('audit_chain').select(['seq', 'hash']).where('id', '=', HEAD).executeTakeFirstOrThrow();
  }

  /** Inserts sealed events (in seq order) and moves the head to the last; under `lockHead`'s lock. */
  async append(rows: readonly AuditEventRow[], now: number): Promise<void> {
    const last = rows[rows.length - 1];
    if (!last) return;
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.db
        .insertInto('audit_events')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    }
    await this.db
      .updateTable('audit_chain')
      .set({ seq: last.seq, hash: last.hash, updated_at: now })
      .where('id', '=', HEAD)
      .execute();
  }

  /** Newest first; the cursor is the seq of the last row of the previous page. */
  async list(filter: AuditFilter, page: { limit: number; cursor?: string | undefined }): Promise<Page<AuditEventRow>> {
    let q = this.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(page.limit + 1);
    if (filter.actions) {
      q = filter.actions.length > 0 ? q.where('action', 'in', filter.actions) : q.where(sql<boolean>`1 = 0`);
    }
    if (filter.targetType) q = q.where('target_type', '=', filter.targetType);
    if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
    if (filter.actorType) q = q.where('actor_type', '=', filter.actorType);
    if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
    if (filter.from !== undefined) q = q.where('time', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('time', '<', filter.to);
    const after = decodeCursor(page.cursor);
    if (after !== undefined) q = q.where('seq', '<', Number(after));
    return toPageBy(await q.execute(), page.limit, (r) => String(r.seq));
  }

  /** Up to `limit` events after `seq`, oldest first (for walking the chain). */
  async after(seq: number, limit: number): Promise<AuditEventRow[]> {
    return this.db.selectFrom('audit_events').selectAll().where('seq', '>', seq).orderBy('seq').limit(limit).execute();
  }

  async bySeq(seq: number): Promise<AuditEventRow | undefined> {
    return this.db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirst();
  }

  /** The seq of the newest event before `time`; undefined when there is none. */
  async lastSeqBefore(time: number): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('time', '<', time)
      .executeTakeFirst();
    return row?.seq == null ? undefined : Number(row.seq);
  }

  /** How many events there are with seq at most `seq`. */
  async countThrough(seq: number): Promise<number> {
    const row = await this.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('seq', '<=', seq)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Deletes the oldest events, up to `limit` of them, with seq at most `seq`; returns how many. */
  async deleteThrough(seq: number, limit: number): Promise<number> {
    const res = await this.db
      .deleteFrom('audit_events')
      .where('seq', 'in', (eb) =>
        eb.selectFrom('audit_events').select('seq').where('seq', '<=', seq).orderBy('seq').limit(limit),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
