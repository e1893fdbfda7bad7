import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { uuidv7 } from '../crypto/ids.js';
import type { Logger } from '../observability/logger.js';
import { type Clock, toIso } from '../shared/clock.js';
import type { AuditFilter, ChainHead } from '../store/audit-repo.js';
import type { Db } from '../store/database.js';
import { type Repos, reposOf } from '../store/repos.js';
import type { AuditEventRow } from '../store/schema.js';
import { inTransaction } from '../store/transaction.js';
import { storedActions } from './action-filter.js';
import { type AuditContext, type AuditDraft, systemActor } from './audit-event.js';
import type { AuditFile } from './audit-file.js';
import { type AuditEventView, toAuditView } from './audit-view.js';
import type { AuditChain } from './chain.js';
import { RefusalSummary } from './refusal-summary.js';

export interface AuditSettings {
  /** Record client addresses (AUDIT_CLIENT_IP); false leaves them out everywhere. */
  clientIp: boolean;
}

/** What a change sees inside its transaction: the repositories on it, and where its events go. */
export interface AuditTx {
  repos: Repos;
  record(event: AuditDraft): void;
}

/** How often ended minutes of refusal summaries are written. */
const REFUSAL_FLUSH_MS = 5_000;

/**
 * The tamper-evident audit trail. A change and its events are written in one transaction (`change`):
 * both commit or neither does. Every append takes the chain head's lock first, so the events of any
 * number of instances on one database form a single line (seq 1, 2, 3, …, each hash over the one
 * before); within a process, appends queue here rather than each holding a connection while it waits.
 * After the commit the events are copied to AUDIT_LOG_FILE.
 */
export class AuditTrail {
  readonly refusals: RefusalSummary;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** The refusal-summary flushes, one after another (flushRefusals). */
  private refusalWrites: Promise<void> = Promise.resolve();
  private readonly committed: Array<(seq: number) => void> = [];

  constructor(
    private readonly db: Db,
    private readonly chain: AuditChain,
    private readonly file: AuditFile | undefined,
    private readonly logger: Logger,
    private readonly now: Clock,
    private readonly settings: AuditSettings,
  ) {
    this.refusals = new RefusalSummary(settings.clientIp);
  }

  /** Hears the last seq of the change log a committed change appended (tokens/redis-change-signal.ts announces it). */
  onChangesCommitted(fn: (seq: number) => void): void {
    this.committed.push(fn);
  }

  /**
   * Runs `fn` in a transaction and appends the events it records in the same one. What `fn` throws
   * rolls both back and is rethrown.
   */
  change<T>(ctx: AuditContext, fn: (tx: AuditTx) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const drafts: AuditDraft[] = [];
      const { value, sealed, seq } = await inTransaction(this.db, async (trx) => {
        const repos = reposOf(trx);
        const head = await repos.audit.lockHead();
        const value = await fn({ repos, record: (d) => drafts.push(d) });
        const sealed = this.seal(head, ctx, drafts);
        await repos.audit.append(sealed, this.now());
        return { value, sealed, seq: repos.changes.lastAppended };
      });
      this.file?.write(sealed.map(toAuditView));
      if (seq !== undefined) for (const fn of this.committed) fn(seq);
      return value;
    });
  }

  /** Events that stand alone (a failed authentication, refusal summaries, a pruning anchor). */
  async append(ctx: AuditContext, drafts: readonly AuditDraft[]): Promise<void> {
    if (drafts.length === 0) return;
    await this.change(ctx, async (tx) => {
      for (const d of drafts) tx.record(d);
    });
  }

  /** Newest first; `action` is an action name or a glob (`token.*`), old names included (action-filter.ts). */
  async list(
    query: Omit<AuditFilter, 'actions'> & { action?: string | undefined },
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ data: AuditEventView[]; next_cursor: string | null }> {
    const { action, ...filter } = query;
    const actions = action === undefined ? undefined : storedActions(action);
    const res = await reposOf(this.db).audit.list({ ...filter, actions }, page);
    return { data: res.rows.map(toAuditView), next_cursor: res.nextCursor };
  }

  /**
   * Deletes the events from before `before`, oldest first, `batch` at a time. First it appends an
   * `audit.pruned` event naming the last event to go (its seq and hash): the chain then starts
   * verifiably after it. Returns how many were deleted.
   */
  async prune(before: number, batch: number, stopped: () => boolean): Promise<number> {
    const audit = reposOf(this.db).audit;
    const through = await audit.lastSeqBefore(before);
    if (through === undefined) return 0;
    const last = await audit.bySeq(through);
    if (!last) return 0; // pruned by another instance meanwhile
    const events = await audit.countThrough(through);
    await this.append({ actor: systemActor('maintenance') }, [
      {
        action: 'audit.pruned',
        target: { type: 'audit', id: null },
        details: { through_seq: through, last_hash: last.hash, events, before: toIso(before) },
      },
    ]);
    let deleted = 0;
    for (;;) {
      const n = await audit.deleteThrough(through, batch);
      deleted += n;
      if (n < batch || stopped()) return deleted;
      await yieldToEventLoop();
    }
  }

  /** Starts writing refusal summaries as their minutes end. */
  start(): void {
    this.timer ??= setInterval(() => void this.flushRefusals(), REFUSAL_FLUSH_MS);
    this.timer.unref();
  }

  /**
   * Writes the refusal summaries of ended minutes (all of them with `all`, when closing). A failed
   * write keeps them for the next attempt and says so. Resolves once every flush asked before it is
   * written too: a flush that finds nothing left to take, because the periodic one took it a moment
   * earlier, still waits for that write.
   */
  flushRefusals(all = false): Promise<void> {
    this.refusalWrites = this.refusalWrites.then(() => this.writeRefusals(all));
    return this.refusalWrites;
  }

  private async writeRefusals(all: boolean): Promise<void> {
    const batch = this.refusals.take(this.now(), all);
    if (batch.drafts.length === 0) return;
    try {
      await this.append({ actor: { type: 'anonymous', id: null } }, batch.drafts);
    } catch (err) {
      batch.restore();
      this.logger.error(
        { err: (err as Error).message, summaries: batch.drafts.length },
        'audit: writing refused-request summaries failed; kept for the next attempt',
      );
    }
  }

  /** Writes every pending summary and closes the audit file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushRefusals(true);
    await this.queue;
    await this.file?.close();
  }

  private seal(head: ChainHead, ctx: AuditContext, drafts: readonly AuditDraft[]): AuditEventRow[] {
    const time = this.now();
    let prev = head;
    return drafts.map((d) => {
      const ip = d.clientIp ?? ctx.clientIp;
      const actor = d.actor ?? ctx.actor;
      const row = this.chain.seal({
        id: uuidv7(time),
        seq: prev.seq + 1,
        time,
        actor_type: actor.type,
        actor_id: actor.id,
        client_ip: this.settings.clientIp && ip !== undefined ? ip : null,
        action: d.action,
        target_type: d.target?.type ?? null,
        target_id: d.target?.id ?? null,
        changes: d.changes === undefined ? null : JSON.stringify(d.changes),
        details: d.details === undefined ? null : JSON.stringify(d.details),
        request_id: d.requestId ?? ctx.requestId ?? null,
        prev_hash: prev.hash,
      });
      prev = row;
      return row;
    });
  }

  /** One append at a time per process: the others wait here, not holding a database connection. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
