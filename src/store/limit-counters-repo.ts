import { sql } from 'kysely';
import type { Db } from './database.js';

/** One subject of a counted admission (its limits as the admission brings them). */
export interface CountedSubject {
  kind: 'token' | 'project';
  id: string;
  /** The persisted request_count the caller knows: the counter never counts below it. */
  requestCount: number;
  maxRequests: number | null;
  /** The lifetime budget (nano-dollars), or null when only requests are counted. */
  budgetNanoUsd: number | null;
  /** The spend read from the usage rollups, when the database asked for it (see `admit`). */
  seedNanoUsd: number | null;
}

/**
 * `refused` 0: admitted; i > 0: subject i-1 refused it (`what` it ran out of, `used`: the requests
 * counted or nano-dollars committed); i < 0: subject -i-1 needs its spend read first (a seed).
 */
export interface CountedAnswer {
  refused: number;
  what: 'requests' | 'budget' | 'seed' | null;
  used: number;
}

/** What the counters hold for a subject (limit_counters). */
export interface CounterRow {
  requests: number;
  spentNanoUsd: number;
  reservedNanoUsd: number;
}

/**
 * The request and lifetime-spend counters of limited subjects, and the reservations of requests in
 * flight (migration 0010), PostgreSQL only: admitting and settling are one function call each, one
 * round trip, atomic over every subject given. Subjects must come sorted by kind then id (the
 * functions lock rows in that order).
 */
export class LimitCountersRepo {
  constructor(private readonly db: Db) {}

  async admit(
    requestId: string,
    instanceId: string,
    now: number,
    deadline: number,
    estimateNanoUsd: number,
    subjects: CountedSubject[],
  ): Promise<CountedAnswer> {
    const col = <T>(f: (s: CountedSubject) => T) => subjects.map(f);
    const { rows } = await sql<{ refused: number; what: CountedAnswer['what']; used: string }>`
      select refused, what, used from llmp_limits_admit_v2(
        ${requestId}, ${instanceId}, ${now}, ${deadline}, ${estimateNanoUsd},
        ${col((s) => s.kind)}::text[], ${col((s) => s.id)}::text[], ${col((s) => s.requestCount)}::bigint[],
        ${col((s) => s.maxRequests)}::bigint[], ${col((s) => s.budgetNanoUsd)}::bigint[],
        ${col((s) => s.seedNanoUsd)}::bigint[])`.execute(this.db);
    const row = rows[0] as { refused: number; what: CountedAnswer['what']; used: string };
    return { refused: row.refused, what: row.what, used: Number(row.used) };
  }

  /** Settles a request's reservations (actual cost; null: its estimate). Idempotent; resolves how many it settled. */
  async settle(requestId: string, actualNanoUsd: number | null, now: number): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select llmp_limits_settle_v2(${requestId}, ${actualNanoUsd}, ${now}) as n`.execute(this.db);
    return rows[0]?.n ?? 0;
  }

  /** Request ids with a reservation past its deadline (`deadline <= now`), oldest first. */
  async expired(now: number, limit: number): Promise<string[]> {
    const { rows } = await sql<{ request_id: string }>`
      select request_id from limit_reservations
      where deadline <= ${now} group by request_id order by min(deadline) limit ${limit}`.execute(this.db);
    return rows.map((r) => r.request_id);
  }

  /** Deletes the counters of tokens and projects that no longer exist (retention deleted them); resolves how many. */
  async pruneOrphans(): Promise<number> {
    const r = await sql`
      delete from limit_counters c
      where (c.kind = 'token' and not exists (select 1 from tokens t where t.id = c.subject_id))
         or (c.kind = 'project' and not exists (select 1 from projects p where p.id = c.subject_id))`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }

  /** A subject's counters, or undefined when none are kept for it. */
  async counters(kind: 'token' | 'project', id: string): Promise<CounterRow | undefined> {
    const { rows } = await sql<{ requests: string; spent_nano_usd: string; reserved_nano_usd: string }>`
      select requests, spent_nano_usd, reserved_nano_usd from limit_counters
      where kind = ${kind} and subject_id = ${id}`.execute(this.db);
    const r = rows[0];
    return (
      r && {
        requests: Number(r.requests),
        spentNanoUsd: Number(r.spent_nano_usd),
        reservedNanoUsd: Number(r.reserved_nano_usd),
      }
    );
  }
}
