import type { ClaimRef, IdempotencyClaim, IdempotencyHeld } from '../store/idempotency-keys-repo.js';

export type { ClaimRef, IdempotencyClaim, IdempotencyHeld };

/**
 * Where idempotency keys live: the database (`IdempotencyKeysRepo`, SQLite or PostgreSQL) or Redis
 * when it is configured (`RedisIdempotencyStore`). One contract for both
 * (test/store/idempotency-contract.test.ts): a claim is atomic, so of two requests with one key
 * exactly one runs; a key is scoped per project; times come from the caller's clock.
 */
export interface IdempotencyStore {
  /** Resolves null when the claim now holds the key, else what holds it. */
  claim(c: IdempotencyClaim): Promise<IdempotencyHeld | null>;
  /** Stores the response (null: not kept) for the rest of the window; false if the claim was lost. */
  complete(ref: ClaimRef, response: Buffer | null, now: number): Promise<boolean>;
  /** Frees the key of a claim whose response is not stored; false if the claim was lost. */
  release(ref: ClaimRef): Promise<boolean>;
  /** Extends the lease of `owner`'s claims in flight (`claims`: those this instance holds). */
  renew(owner: string, claims: readonly ClaimRef[], now: number, leaseMs: number): Promise<void>;
  /** Deletes up to `limit` keys whose window ended (the database's; Redis expires its own): how many. */
  sweep(now: number, limit: number): Promise<number>;
}
