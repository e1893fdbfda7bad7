/**
 * The rule for an upstream origin (OPENAI_API_URL, a project's base_url). The proxy keeps only the
 * URL's origin and path (see tokens/authenticator.ts), so credentials, a query or a fragment would
 * be dropped without a word; credentials would also sit in plaintext in the store and in API replies.
 * Returns what is wrong, or undefined when the URL is usable.
 */
export function upstreamUrlProblem(value: string): string | undefined {
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
