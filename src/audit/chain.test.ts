import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/keyring.js';
import { AUDIT_KEY_LABEL, AuditChain, type UnsealedEvent } from './chain.js';

const event = (over: Partial<UnsealedEvent> = {}): UnsealedEvent => ({
  id: '019c0000-0000-7000-8000-000000000001',
  seq: 1,
  time: 1_700_000_000_000,
  actor_type: 'management-token',
  actor_id: null,
  client_ip: '127.0.0.1',
  action: 'project.created',
  target_type: 'project',
  target_id: 'p1',
  changes: '{"before":null,"after":{"name":"a"}}',
  details: null,
  request_id: 'r1',
  prev_hash: '',
  ...over,
});

describe('AuditChain', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('signs every field: any change, the previous hash included, breaks the seal', () => {
    const chain = AuditChain.fromKeyring(new Keyring(oldKey));
    const row = chain.seal(event());
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chain.check(row)).toBe('ok');
    for (const [field, value] of Object.entries({
      seq: 2,
      time: 1,
      actor_id: 'x',
      client_ip: null,
      action: 'project.deleted',
      target_id: 'p2',
      changes: '{}',
      details: '{}',
      request_id: null,
      prev_hash: 'a'.repeat(64),
    })) {
      expect(chain.check({ ...row, [field]: value }), field).toBe('mismatch');
    }
  });

  it('verifies with the previous key after a rotation; without it the key is unknown', () => {
    const before = AuditChain.fromKeyring(new Keyring(oldKey)).seal(event());
    const rotated = AuditChain.fromKeyring(new Keyring(newKey, [oldKey]));
    const after = rotated.seal(event({ seq: 2, prev_hash: before.hash }));
    expect(after.key_id).not.toBe(before.key_id);
    expect([rotated.check(before), rotated.check(after)]).toEqual(['ok', 'ok']);
    expect(AuditChain.fromKeyring(new Keyring(newKey)).check(before)).toBe('unknown_key');
  });

  it('derives its own key: neither the encryption key nor another label’s', () => {
    const ring = new Keyring(oldKey);
    const audit = ring.derive(AUDIT_KEY_LABEL).get(ring.currentId);
    expect(audit).toHaveLength(32);
    expect(audit?.equals(oldKey)).toBe(false);
    expect(audit?.equals(ring.derive('another purpose').get(ring.currentId) as Buffer)).toBe(false);
  });
});
