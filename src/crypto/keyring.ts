import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const ALGO = 'aes-256-gcm';

/** Parses a base64 (Node's decoder also takes base64url) 32-byte key; the error names the setting. */
export function parseKey(text: string, setting: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${setting} must be 32 bytes encoded as base64 (got ${key.length} bytes)`);
  return key;
}

/** Short public id of a key, stored beside each ciphertext so the right key is found after rotation. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM with a random 96-bit IV per value. Stored form: `v1:<keyId>:<iv>:<tag>:<ciphertext>`
 * (base64url parts). Encrypts with the current key, decrypts with any key in the ring, so operators
 * rotate by moving the old key to ENCRYPTION_KEY_PREVIOUS and running `llm-proxy rekey`.
 */
export class Keyring {
  private readonly keys = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    this.currentId = keyId(current);
    this.keys.set(this.currentId, current);
    for (const k of previous) this.keys.set(keyId(k), k);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGO, this.current, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      this.currentId,
      iv.toString('base64url'),
      tag.toString('base64url'),
      ct.toString('base64url'),
    ].join(':');
  }

  decrypt(stored: string): string {
    const [version, kid, iv, tag, ct] = stored.split(':');
    if (version !== VERSION || !kid || !iv || !tag || ct === undefined)
      throw new Error('unrecognised ciphertext format');
    const key = this.keys.get(kid);
    if (!key) throw new Error(`no key with id ${kid} in the keyring (set ENCRYPTION_KEY_PREVIOUS)`);
    const decipher = createDecipheriv(ALGO, key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /**
   * Keys for another purpose than encryption, one per key of the ring (the current one first), by
   * key id: HKDF-SHA256 with `label` as its info, so they are unrelated to the encryption keys and to
   * each other's purposes, and rotate with ENCRYPTION_KEY.
   */
  derive(label: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [id, key] of this.keys) out.set(id, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), label, 32)));
    return out;
  }

  /** True when a stored value was encrypted with a key other than the current one. */
  needsRekey(stored: string): boolean {
    return stored.split(':')[1] !== this.currentId;
  }
}
