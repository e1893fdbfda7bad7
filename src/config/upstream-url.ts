/**
 * Whitespace, controls, invisible format characters (soft hyphen, zero-width space, bidi
 * overrides) and backslashes: a URL parser drops or rewrites each (`\` becomes `/`, a tab vanishes),
 * so the host it reads can differ from the one a person reads in the stored value.
 */
const REWRITTEN = /[\s\p{Cc}\p{Cf}\\]/u;

/**
 * The rule for an upstream origin (OPENAI_API_URL, a project's base_url). The proxy keeps only the
 * URL's origin and path (see tokens/authenticator.ts), so credentials, a query or a fragment would
 * be dropped without a word; credentials would also sit in plaintext in the store and in API replies.
 * Returns what is wrong, or undefined when the URL is usable.
 */
export function upstreamUrlProblem(value: string): string | undefined {
  const odd = REWRITTEN.exec(value);
  if (odd) {
    const code = (odd[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain whitespace, control or invisible characters, or backslashes (U+${code} at position ${odd.index + 1}): a URL parser drops or rewrites them, so the host it reads could differ from the one written`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an http(s) URL such as https://api.openai.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `expected an http:// or https:// URL such as https://api.openai.com, not ${url.protocol}`;
  }
  if (url.username || url.password) {
    return 'must not contain credentials (user:password@); the project key is sent as the Authorization header';
  }
  if (url.search || value.includes('?')) return 'must not contain a query string (?…)';
  if (url.hash || value.includes('#')) return 'must not contain a fragment (#…)';
  return undefined;
}
