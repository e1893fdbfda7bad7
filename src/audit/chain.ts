import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import type { AuditEventRow } from '../store/schema.js';

/** HKDF label of the audit key: its own, so it never equals a key used for anything else. */
export const AUDIT_KEY_LABEL = 'llm-proxy audit chain v1';
/** Version of the canonical encoding, hashed with every event. */
const FORMAT = 'llm-proxy-audit-v1';

export type UnsealedEvent = Omit<AuditEventRow, 'key_id' | 'hash'>;

/**
 * The chain's seal: `hash = HMAC-SHA256(key, canonical(event))`, where the canonical encoding is a
 * JSON array of every field in a fixed order, `prev_hash` (the previous event's hash) included, so
 * each event vouches for the one before it. The key is derived from ENCRYPTION_KEY; `key_id` (the
 * encryption key's public id) says which one signed, so events written before a rotation verify
 * with ENCRYPTION_KEY_PREVIOUS.
 */
export class AuditChain {
  private readonly currentId: string;

  constructor(private readonly keys: ReadonlyMap<string, Buffer>) {
    const first = keys.keys().next();
    if (first.done) throw new Error('the audit chain needs a key');
    this.currentId = first.value;
  }

  static fromKeyring(keyring: Keyring): AuditChain {
    return new AuditChain(keyring.derive(AUDIT_KEY_LABEL));
  }

  /** The event with `key_id` and `hash` set, signed with the current key. */
  seal(event: UnsealedEvent): AuditEventRow {
    const row = { ...event, key_id: this.currentId, hash: '' };
    row.hash = hmac(this.keys.get(this.currentId) as Buffer, row);
    return row;
  }

  /** Whether the stored hash is the one its fields give; `unknown_key` when its key is not configured. */
  check(row: AuditEventRow): 'ok' | 'mismatch' | 'unknown_key' {
    const key = this.keys.get(row.key_id);
    if (!key) return 'unknown_key';
    const expected = Buffer.from(hmac(key, row), 'hex');
    const stored = Buffer.from(row.hash, 'hex');
    return stored.length === expected.length && timingSafeEqual(stored, expected) ? 'ok' : 'mismatch';
  }

  /** What the hash of the row would be with its own fields (to tell an edited hash from edited fields). */
  expectedHash(row: AuditEventRow): string | undefined {
    const key = this.keys.get(row.key_id);
    return key ? hmac(key, row) : undefined;
  }
}

function hmac(key: Buffer, r: Omit<AuditEventRow, 'hash'>): string {
  const canonical = JSON.stringify([
    FORMAT,
    r.prev_hash,
    r.id,
    r.seq,
    r.time,
    r.actor_type,
    r.actor_id,
    r.client_ip,
    r.action,
    r.target_type,
    r.target_id,
    r.changes,
    r.details,
    r.request_id,
    r.key_id,
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
}
