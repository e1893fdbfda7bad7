import { createHash } from 'node:crypto';
import { type AppError, errors } from '../errors.js';

/**
 * The request header (draft-ietf-httpapi-idempotency-key-header): a request carrying it runs once
 * per project and key within the window. Exported for the retry policy too: a request carrying it
 * may be retried after a 5xx, since a repeat cannot run twice.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** The response header of a replayed answer, as Stripe sends it. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** The longest key taken (Stripe's bound too). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Methods the header applies to: the others are idempotent by definition and pass as they are. */
export const KEYED_METHODS = new Set(['POST', 'PATCH']);

/**
 * The key of a header value, or the 400 for a bad one. The draft sends a Structured Field string
 * (`"abc"`); a bare value (`abc`, as Stripe and most SDKs send) is taken as it is. A key is 1 to
 * 255 printable ASCII characters (after removing the quotes).
 */
export function parseIdempotencyKey(raw: string): string | AppError {
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1).replace(/\\(["\\])/g, '$1');
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
    return errors.idempotencyKeyInvalid(MAX_IDEMPOTENCY_KEY_LENGTH);
  }
  return key;
}

/** What makes two requests with one key the same request: method, path with query, and body (hex SHA-256). */
export function fingerprint(method: string, url: string, body: Buffer | undefined): string {
  const h = createHash('sha256').update(method).update('\n').update(url).update('\n');
  if (body) h.update(body);
  return h.digest('hex');
}
