import type { IncomingHttpHeaders } from 'node:http';

/** RFC 9110 hop-by-hop headers plus proxy plumbing: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Client credentials for the proxy itself: replaced by the project's real key. */
const CLIENT_CREDENTIALS = new Set(['authorization', 'api-key']);

/**
 * Headers for the upstream request: the client's, minus hop-by-hop headers (and any named in
 * `Connection`), minus the proxy token, plus the real key. `accept-encoding: identity` asks for an
 * uncompressed body so usage can be read from it as it passes (documented in docs/proxy.md).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  apiKey: string,
): Record<string, string | string[]> {
  const extraHop = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || CLIENT_CREDENTIALS.has(name) || extraHop?.has(name)) continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = v;
  }
  out.authorization = `Bearer ${apiKey}`;
  out['accept-encoding'] = 'identity';
  return out;
}

/** Response headers for the client: the upstream's, minus hop-by-hop ones. */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const extraHop = connectionTokens(upstream.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || extraHop?.has(name)) continue;
    const v = upstream[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** The proxy token: `Authorization: Bearer …` (OpenAI SDKs) or `api-key` (Azure-style clients). */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const key = headers['api-key'];
  return typeof key === 'string' && key.length > 0 ? key.trim() : undefined;
}
