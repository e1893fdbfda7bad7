import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from './ids.js';
import { Keyring, keyId, parseKey } from './keyring.js';
import { generateToken, maskSecret, safeEqual, safeHint, sha256Hex } from './secrets.js';

describe('Keyring (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const ring = new Keyring(key);

  it('round-trips, with a fresh IV each time and the key id in the value', () => {
    const a = ring.encrypt('sk-secret');
    const b = ring.encrypt('sk-secret');
    expect(a).not.toBe(b);
    expect(a.split(':').slice(0, 2)).toEqual(['v1', keyId(key)]);
    expect(a).not.toContain('sk-secret');
    expect(ring.decrypt(a)).toBe('sk-secret');
  });

  it('detects tampering through the auth tag', () => {
    const parts = ring.encrypt('sk-secret').split(':');
    const ct = Buffer.from(parts[4] as string, 'base64url');
    ct[0] = (ct[0] as number) ^ 1;
    parts[4] = ct.toString('base64url');
    expect(() => ring.decrypt(parts.join(':'))).toThrow();
  });

  it('decrypts with previous keys after rotation and says when a value needs re-encryption', () => {
    const old = ring.encrypt('sk-old');
    const rotated = new Keyring(randomBytes(32), [key]);
    expect(rotated.decrypt(old)).toBe('sk-old');
    expect(rotated.needsRekey(old)).toBe(true);
    expect(rotated.needsRekey(rotated.encrypt('x'))).toBe(false);
    expect(() => new Keyring(randomBytes(32)).decrypt(old)).toThrow(/ENCRYPTION_KEY_PREVIOUS/);
  });

  it('parses base64 and base64url keys of exactly 32 bytes', () => {
    expect(parseKey(key.toString('base64'), 'K')).toEqual(key);
    expect(parseKey(key.toString('base64url'), 'K')).toEqual(key);
    expect(() => parseKey(randomBytes(16).toString('base64'), 'ENCRYPTION_KEY')).toThrow(
      /ENCRYPTION_KEY must be 32 bytes/,
    );
  });
});

describe('tokens and secrets', () => {
  it('generates distinct prefixed tokens with 256 random bits', () => {
    const t = generateToken();
    expect(t).toMatch(/^sk-llmp-[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 1000 }, generateToken)).size).toBe(1000);
  });

  it('hashes with SHA-256 and compares in constant time regardless of length', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });

  it('masks secrets to a short hint', () => {
    expect(maskSecret('sk-proj-abcdefghijklmnop1234')).toBe('sk-proj-…1234');
    expect(maskSecret('sk-llmp-abcdefghijklmnopqrstuvwxyz')).toBe('sk-llmp-…wxyz');
    expect(maskSecret('abcdefghijklmnop')).toBe('…mnop'); // no known prefix: nothing of the head
    // Too short to give any character away, with or without a known prefix.
    for (const s of ['a', 'short', 'sk-1', 'abcdefghijk', 'sk-abcdefghijk', 'sk-proj-abcdefghijk']) {
      expect(maskSecret(s), s).toBe('…');
    }
    expect(maskSecret('sk-abcdefghijkl')).toBe('sk-…ijkl');
  });

  it('makes hints stored under the old rule safe to show', () => {
    expect(safeHint('abc…')).toBe('…'); // a 3-character key, stored whole
    expect(safeHint('sho…')).toBe('…');
    expect(safeHint('xyz…wxyz')).toBe('…wxyz'); // head of an unknown kind of key
    expect(safeHint('sk-…wxyz')).toBe('sk-…wxyz');
    expect(safeHint('sk-proj-…wxyz')).toBe('sk-proj-…wxyz');
    expect(safeHint('…')).toBe('…');
    expect(safeHint('plain')).toBe('…');
  });
});

describe('uuidv7', () => {
  it('is a valid, time-ordered UUID even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    for (const id of ids.slice(0, 10)) expect(isUuid(id)).toBe(true);
    expect(ids[0]?.[14]).toBe('7');
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuidv7(1_800_000_000_000) > (ids.at(-1) as string)).toBe(true);
  });

  it('carries its millisecond, version 7 and the RFC 9562 variant in every id', () => {
    // Later than any id made before in this process (ids never go back in time, and test files
    // share their worker's modules: another file's clock may be years ahead of this one's).
    const newest = Number.parseInt(uuidv7().replace(/-/g, '').slice(0, 12), 16);
    for (const now of [newest + 1_000, newest + 123_456_789, 2 ** 47 + 5]) {
      const id = uuidv7(now);
      const hex = id.replace(/-/g, '');
      expect(hex).toHaveLength(32);
      expect(Number.parseInt(hex.slice(0, 12), 16)).toBe(now);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
  });
});
