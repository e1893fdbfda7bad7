import { sql } from 'kysely';
import type { Db } from './database.js';
import type { NewTrackedJobRow, TrackedJobRow } from './schema.js';

/** Where the follower is with a job (src/jobs/). */
export type TrackedJobState = 'pending' | 'recording' | 'done' | 'dropped';

export const TRACKED_JOB_STATES: readonly TrackedJobState[] = ['pending', 'recording', 'done', 'dropped'];

/**
 * The `tracked_jobs` table: batches and background responses followed until their usage is
 * recorded. Every change of state is one conditional update, so of several instances (or a
 * retrieval through the proxy and the background poll) exactly one moves a job on: `claim` is the
 * one step that decides who records a job's usage.
 */
export class TrackedJobsRepo {
  constructor(private readonly db: Db) {}

  /** Remembers a job; a job already known (the same id seen again) stays as it is. Resolves whether it was new. */
  async insert(row: NewTrackedJobRow): Promise<boolean> {
    const res = await this.db
      .insertInto('tracked_jobs')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async get(id: string): Promise<TrackedJobRow | undefined> {
    return this.db.selectFrom('tracked_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Pending jobs whose poll is due at `now`, soonest first, at most `limit`. */
  async due(now: number, limit: number): Promise<TrackedJobRow[]> {
    return this.db
      .selectFrom('tracked_jobs')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_poll_at', '<=', now)
      .orderBy('next_poll_at')
      .limit(limit)
      .execute();
  }

  /** Jobs left `recording` since before `before` (their recorder stopped midway), at most `limit`. */
  async stalled(before: number, limit: number): Promise<TrackedJobRow[]> {
    return this.db
      .selectFrom('tracked_jobs')
      .selectAll()
      .where('state', '=', 'recording')
      .where('updated_at', '<', before)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
  }

  /** After a poll that found it still running: the next poll's time, the upstream's status. */
  async reschedule(
    id: string,
    patch: { nextPollAt: number; upstreamStatus: string; error: string | null; now: number },
  ) {
    await this.db
      .updateTable('tracked_jobs')
      .set({
        next_poll_at: patch.nextPollAt,
        upstream_status: patch.upstreamStatus,
        error: patch.error,
        attempts: sql`attempts + 1`,
        updated_at: patch.now,
      })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  /** Polls it at the next pass (a retrieval through the proxy saw it finished). */
  async pollNow(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('tracked_jobs')
      .set({ next_poll_at: now })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('next_poll_at', '>', now)
      .execute();
  }

  /**
   * Pending → recording, with the time its records will carry; resolves whether this caller won
   * (only the winner records the job's usage and charges its limits).
   */
  async claim(id: string, upstreamStatus: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('tracked_jobs')
      // A recording tried before keeps its time: its records get the same keys again.
      .set({
        state: 'recording',
        upstream_status: upstreamStatus,
        recorded_at: sql`coalesce(recorded_at, ${now})`,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** A stalled recording taken over by this caller (its `updated_at` moved on); resolves whether it won. */
  async retake(id: string, seenUpdatedAt: number, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('tracked_jobs')
      .set({ updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'recording')
      .where('updated_at', '=', seenUpdatedAt)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Recording → pending again (the recording failed midway): polled and claimed again from `nextPollAt`. */
  async release(id: string, nextPollAt: number, error: string, now: number): Promise<void> {
    await this.db
      .updateTable('tracked_jobs')
      .set({ state: 'pending', next_poll_at: nextPollAt, error, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'recording')
      .execute();
  }

  /** Recording → done, with what was recorded. */
  async done(id: string, records: number, costNanoUsd: number, now: number): Promise<void> {
    await this.db
      .updateTable('tracked_jobs')
      .set({ state: 'done', records, cost_nano_usd: costNanoUsd, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'recording')
      .execute();
  }

  /** No longer followed: why, and the upstream's last status. */
  async drop(id: string, error: string, upstreamStatus: string | undefined, now: number): Promise<void> {
    await this.db
      .updateTable('tracked_jobs')
      .set({ state: 'dropped', error, updated_at: now, ...(upstreamStatus ? { upstream_status: upstreamStatus } : {}) })
      .where('id', '=', id)
      .where('state', 'in', ['pending', 'recording'])
      .execute();
  }

  /** Jobs by state, for the metrics. */
  async countByState(): Promise<Record<TrackedJobState, number>> {
    const rows = await this.db
      .selectFrom('tracked_jobs')
      .select(['state', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('state')
      .execute();
    const out: Record<TrackedJobState, number> = { pending: 0, recording: 0, done: 0, dropped: 0 };
    for (const r of rows) if (r.state in out) out[r.state as TrackedJobState] = Number(r.n);
    return out;
  }

  /** Newest first, optionally of one project or kind, `limit` rows from after `afterId`. */
  async list(filter: { projectId?: string; kind?: string; state?: string }, limit: number): Promise<TrackedJobRow[]> {
    let q = this.db.selectFrom('tracked_jobs').selectAll();
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    if (filter.state) q = q.where('state', '=', filter.state);
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }
}
