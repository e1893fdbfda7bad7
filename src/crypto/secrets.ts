import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Proxy tokens look like `sk-llmp-<43 base64url chars>`: 256 random bits, easy to spot in a leak scan. */
export const TOKEN_PREFIX = 'sk-llmp-';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Management tokens get their own prefix so the two kinds are never confused. */
export function generateManagementToken(): string {
  return `mgmt-${randomBytes(32).toString('base64url')}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Constant-time comparison of two secrets of any length: hashing first makes the compared buffers
 * equal in length, so neither the content nor the length of the expected value leaks through timing.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A hint that identifies a secret to a human without revealing it: `sk-…abcd`. */
export function maskSecret(secret: string): string {
  const head = secret.startsWith(TOKEN_PREFIX) ? TOKEN_PREFIX : secret.slice(0, Math.min(3, secret.length));
  const tail = secret.length >= 12 ? secret.slice(-4) : '';
  return `${head}…${tail}`;
}
