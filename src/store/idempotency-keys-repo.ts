import type { Db } from './database.js';

/** What a key holds when another request has it: in flight, or done with its response. */
export type IdempotencyHeld =
  | { state: 'in_flight'; fingerprint: string }
  /** `response` null: the response was not kept (larger than the bound). */
  | { state: 'done'; fingerprint: string; response: Buffer | null };

/** A request claiming a key: it runs if the key is free, expired, or its holder's lease lapsed. */
export interface IdempotencyClaim {
  projectId: string;
  key: string;
  fingerprint: string;
  /** The instance claiming it (its lease is renewed by instance). */
  owner: string;
  requestId: string;
  now: number;
  leaseMs: number;
  ttlMs: number;
}

/** The parts of a claim that name it once made. */
export type ClaimRef = Pick<IdempotencyClaim, 'projectId' | 'key' | 'requestId'>;

/**
 * The `idempotency_keys` table (migration 0015). A claim is one upsert, atomic on both dialects:
 * it takes the row when there is none, when the window ended (`expires_at <= now`), or when the
 * request in flight lost its lease (its instance died) and the claim is for the same request
 * (fingerprint); otherwise the row is read and returned. Times come from the caller's clock.
 */
export class IdempotencyKeysRepo {
  constructor(private readonly db: Db) {}

  /** Resolves null when `c` now holds the key, else what holds it. */
  async claim(c: IdempotencyClaim): Promise<IdempotencyHeld | null> {
    // A row deleted (released, swept) between the upsert and the read: claim again.
    for (;;) {
      const won = await this.db
        .insertInto('idempotency_keys')
        .values({
          project_id: c.projectId,
          key: c.key,
          fingerprint: c.fingerprint,
          state: 'in_flight',
          owner: c.owner,
          request_id: c.requestId,
          lease_expires_at: c.now + c.leaseMs,
          response: null,
          not_kept: 0,
          created_at: c.now,
          expires_at: c.now + c.ttlMs,
        })
        .onConflict((oc) =>
          oc
            .columns(['project_id', 'key'])
            .doUpdateSet((eb) => ({
              fingerprint: eb.ref('excluded.fingerprint'),
              state: eb.ref('excluded.state'),
              owner: eb.ref('excluded.owner'),
              request_id: eb.ref('excluded.request_id'),
              lease_expires_at: eb.ref('excluded.lease_expires_at'),
              response: null,
              not_kept: 0,
              created_at: eb.ref('excluded.created_at'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where((eb) =>
              eb.or([
                eb('idempotency_keys.expires_at', '<=', c.now),
                eb.and([
                  eb('idempotency_keys.state', '=', 'in_flight'),
                  eb('idempotency_keys.lease_expires_at', '<=', c.now),
                  eb('idempotency_keys.fingerprint', '=', c.fingerprint),
                ]),
              ]),
            ),
        )
        .returning('request_id')
        .executeTakeFirst();
      if (won?.request_id === c.requestId) return null;
      const row = await this.db
        .selectFrom('idempotency_keys')
        .select(['fingerprint', 'state', 'response', 'not_kept'])
        .where('project_id', '=', c.projectId)
        .where('key', '=', c.key)
        .executeTakeFirst();
      if (!row) continue;
      if (row.state === 'in_flight') return { state: 'in_flight', fingerprint: row.fingerprint };
      return { state: 'done', fingerprint: row.fingerprint, response: row.not_kept ? null : toBuffer(row.response) };
    }
  }

  /**
   * The claimed request finished: its response (null: not kept) is stored for the rest of the
   * window. Resolves false when the claim was no longer the request's (its lease lapsed and
   * another took the key).
   */
  async complete(ref: ClaimRef, response: Buffer | null, _now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        owner: null,
        lease_expires_at: null,
        response,
        not_kept: response === null ? 1 : 0,
      })
      .where('project_id', '=', ref.projectId)
      .where('key', '=', ref.key)
      .where('request_id', '=', ref.requestId)
      .where('state', '=', 'in_flight')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The claimed request will not be stored (failed, cut, refused): the key is free again. */
  async release(ref: ClaimRef): Promise<boolean> {
    const r = await this.db
      .deleteFrom('idempotency_keys')
      .where('project_id', '=', ref.projectId)
      .where('key', '=', ref.key)
      .where('request_id', '=', ref.requestId)
      .where('state', '=', 'in_flight')
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Extends the lease of every claim `owner` has in flight, in one statement. */
  async renew(owner: string, _claims: readonly ClaimRef[], now: number, leaseMs: number): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({ lease_expires_at: now + leaseMs })
      .where('owner', '=', owner)
      .where('state', '=', 'in_flight')
      .execute();
  }

  /** Deletes up to `limit` keys whose window ended; resolves how many. */
  async sweep(now: number, limit: number): Promise<number> {
    const r = await this.db
      .deleteFrom('idempotency_keys')
      .where((eb) =>
        eb(
          eb.refTuple('project_id', 'key'),
          'in',
          eb
            .selectFrom('idempotency_keys')
            .select(['project_id', 'key'])
            .where('expires_at', '<=', now)
            .limit(limit)
            .$asTuple('project_id', 'key'),
        ),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** SQLite returns a Buffer (or Uint8Array), PostgreSQL a Buffer. */
function toBuffer(v: Buffer | Uint8Array | null): Buffer | null {
  if (v === null) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v);
}
