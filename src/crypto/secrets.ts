import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Proxy tokens look like `sk-llmp-<43 base64url chars>`: 256 random bits, easy to spot in a leak scan. */
export const TOKEN_PREFIX = 'sk-llmp-';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Management tokens get their own prefix so the two kinds are never confused. */
export function generateManagementToken(): string {
  return `mgmt-${randomBytes(32).toString('base64url')}`;
}

/** One-shot hash (no Hash object): runs for every proxied request, to look its token up. */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/**
 * Constant-time comparison of two secrets of any length: hashing first makes the compared buffers
 * equal in length, so neither the content nor the length of the expected value leaks through timing.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Public prefixes a hint may show: they name the kind of key, not any of its secret part. Longest
 * first, so `sk-proj-…` wins over `sk-…`.
 */
const KNOWN_PREFIXES = [TOKEN_PREFIX, 'sk-svcacct-', 'sk-admin-', 'sk-proj-', 'sk-'];

/** Secrets whose part after a known prefix is shorter than this get a hint with no characters at all. */
const MIN_HINTED_LENGTH = 12;

/**
 * A hint that identifies a secret to a human without revealing it: its known prefix and its last 4
 * characters (`sk-proj-…abcd`), or just `…` when the secret is too short to give any away.
 */
export function maskSecret(secret: string): string {
  const head = KNOWN_PREFIXES.find((p) => secret.startsWith(p)) ?? '';
  if (secret.length - head.length < MIN_HINTED_LENGTH) return '…';
  return `${head}…${secret.slice(-4)}`;
}

/**
 * A stored hint made safe to show. Rows written before the rule above kept the first 3 characters
 * whatever they were, and the whole of a secret of 3 characters or fewer; this keeps a head only
 * when it is a known prefix, and shows nothing unless there is a 4-character tail (old hints had one
 * only for secrets of 12 characters or more).
 */
export function safeHint(stored: string): string {
  const i = stored.indexOf('…');
  if (i < 0) return '…';
  const head = stored.slice(0, i);
  const tail = stored.slice(i + 1);
  if (tail.length !== 4) return '…';
  return `${KNOWN_PREFIXES.includes(head) ? head : ''}…${tail}`;
}
