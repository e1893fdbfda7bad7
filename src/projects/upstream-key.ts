/**
 * What an upstream API key may hold. The key travels as `Authorization: Bearer <key>`, and undici
 * refuses a header value with control characters or characters beyond Latin-1 (every request
 * would fail with UND_ERR_INVALID_ARG). Surrounding spaces are refused rather than trimmed: a
 * secret is stored exactly as given or not at all.
 * Returns what is wrong (never the key itself), or undefined when the key can be sent.
 */
export function upstreamKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (/^\s|\s$/.test(key)) {
    return 'starts or ends with whitespace; remove it (keys are stored exactly as given, never trimmed)';
  }
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xa0 && c <= 0xff) continue;
    const what =
      c === 0x0a || c === 0x0d ? 'a line break' : c <= 0xff ? 'a control character' : 'a character outside Latin-1';
    const code = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    return `contains ${what} (${code}) at position ${i + 1}; an upstream key can only hold visible ASCII or Latin-1 characters, as it is sent in an HTTP header`;
  }
  return undefined;
}

/** How a key is sent: `Authorization: Bearer <key>` (OpenAI and most servers) or `api-key: <key>` (Azure OpenAI). */
export const AUTH_STYLES = ['bearer', 'api-key'] as const;
export type AuthStyle = (typeof AUTH_STYLES)[number];

/** The weight a key is given when none is set, and the bounds of a weight. */
export const DEFAULT_KEY_WEIGHT = 1;
export const MAX_KEY_WEIGHT = 1000;

/** An enabled upstream key of a project as the proxy sends with it: resolved once, held in memory only. */
export interface UpstreamKey {
  id: string;
  name: string;
  /** Upstream origin, e.g. https://api.openai.com (what the connection pool is keyed by). */
  origin: string;
  /** Path prefix of the upstream base URL ('' for most), put before the client's /v1/… path. */
  prefix: string;
  authStyle: AuthStyle;
  /** Offer HTTP/2 to the upstream (its own pool; HTTP/1.1 when the server does not take it). */
  http2: boolean;
  weight: number;
  /** The decrypted key. */
  secret: string;
}
