import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamKey } from '../projects/upstream-key.js';

/**
 * RFC 9110 hop-by-hop headers plus proxy plumbing: never forwarded in either direction. `expect`
 * is answered by the proxy itself (100 Continue once admitted, 417 otherwise; server/http-events.ts)
 * and undici refuses to send it. An HTTP/2 request's pseudo-headers (RFC 9113 §8.3) are its request
 * line: node:http2 lists them among the headers, and the upstream request has its own.
 */
const HOP_BY_HOP = new Set([
  ':method',
  ':path',
  ':scheme',
  ':authority',
  ':protocol',
  'expect',
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

/** Client credentials for the proxy itself: replaced by the project's real key (in the key's auth style). */
const CLIENT_CREDENTIALS = new Set(['authorization', 'api-key']);

/**
 * Headers for the upstream request: the client's, minus hop-by-hop headers (and any named in
 * `Connection`), minus the proxy token, plus the real key as `Authorization: Bearer <key>` or, for
 * an `api-key` style key (Azure OpenAI), `api-key: <key>`. `accept-encoding: identity` asks for an
 * uncompressed body so usage can be read from it as it passes (documented in docs/proxy.md).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  key: Pick<UpstreamKey, 'secret' | 'authStyle'>,
): Record<string, string | string[]> {
  const extraHop = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || CLIENT_CREDENTIALS.has(name) || extraHop?.has(name)) continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = v;
  }
  if (key.authStyle === 'api-key') out['api-key'] = key.secret;
  else out.authorization = `Bearer ${key.secret}`;
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * Response headers for the client, from undici's raw header list: the upstream's names and values
 * as sent (a flat [name, value, …] list, which `writeHead` takes as is), minus hop-by-hop ones.
 * `server-timing` is taken out so the proxy can append its own; `content-length` is dropped when
 * the body will be rewritten. Over HTTP/2 undici hands over the session's header object instead
 * (names lowercased, repeated headers as arrays, no hop-by-hop ones): its entries, in order.
 */
export function responseHeaderList(
  raw: Buffer[] | Record<string, string | string[] | undefined>,
  dropLength: boolean,
): { list: string[]; upstreamTiming: string | undefined } {
  const flat = Array.isArray(raw) ? raw : h2HeaderList(raw);
  const list: string[] = [];
  let upstreamTiming: string | undefined;
  let extraHop: Set<string> | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const n = flat[i] as Buffer | string;
    const v = flat[i + 1] as Buffer | string;
    const name = typeof n === 'string' ? n : n.toString('latin1');
    const value = typeof v === 'string' ? v : v.toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') extraHop = connectionTokens(value);
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === 'server-timing') upstreamTiming = upstreamTiming ? `${upstreamTiming}, ${value}` : value;
    else if (!(dropLength && lower === 'content-length')) list.push(name, value);
  }
  if (extraHop) {
    // Headers named in Connection are hop-by-hop too (rare: filter after the fact).
    const kept: string[] = [];
    for (let i = 0; i < list.length; i += 2) {
      if (!extraHop.has((list[i] as string).toLowerCase())) kept.push(list[i] as string, list[i + 1] as string);
    }
    return { list: kept, upstreamTiming };
  }
  return { list, upstreamTiming };
}

/** An HTTP/2 header object as a flat [name, value, …] list (its pseudo-headers left out). */
function h2HeaderList(headers: Record<string, string | string[] | undefined>): string[] {
  const flat: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) flat.push(name, v);
    else flat.push(name, String(value));
  }
  return flat;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  // The usual values name no other header (and are hop-by-hop themselves): no set to build.
  if (value === 'keep-alive' || value === 'close') return undefined;
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

/** The browser form of the proxy token: a WebSocket subprotocol, since a browser cannot set headers. */
export const SUBPROTOCOL_TOKEN_PREFIX = 'openai-insecure-api-key.';

/** Set by the WebSocket handshake itself: the upstream handshake makes its own. */
const WEBSOCKET_HANDSHAKE = new Set([
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
]);

/**
 * Headers for the upstream WebSocket handshake: the client's, minus hop-by-hop and handshake
 * headers and the proxy token, plus the real key in the key's auth style.
 */
export function upstreamUpgradeHeaders(
  incoming: IncomingHttpHeaders,
  key: Pick<UpstreamKey, 'secret' | 'authStyle'>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const extraHop = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || CLIENT_CREDENTIALS.has(name) || WEBSOCKET_HANDSHAKE.has(name) || extraHop?.has(name))
      continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  if (key.authStyle === 'api-key') out['api-key'] = key.secret;
  else out.authorization = `Bearer ${key.secret}`;
  return out;
}

/**
 * The subprotocols a WebSocket client offered, split into the proxy token (the browser form,
 * never sent on) and the others (sent to the upstream as offered).
 */
export function offeredSubprotocols(header: string | undefined): { token: string | undefined; others: string[] } {
  let token: string | undefined;
  const others: string[] = [];
  for (const raw of (header ?? '').split(',')) {
    const p = raw.trim();
    if (!p) continue;
    if (p.startsWith(SUBPROTOCOL_TOKEN_PREFIX)) token ??= p.slice(SUBPROTOCOL_TOKEN_PREFIX.length) || undefined;
    else others.push(p);
  }
  return { token, others };
}

/** Longer than any provider's request id: a value past it is cut, so a hostile header cannot bloat a row. */
const MAX_UPSTREAM_ID = 128;

/**
 * The upstream's id of its answer: OpenAI's `x-request-id`, else Azure OpenAI's `apim-request-id`
 * (one header lookup when the first is there, which is every OpenAI answer). Null when neither came.
 */
export function upstreamRequestId(headers: Record<string, string | string[] | undefined>): string | null {
  const id = headers['x-request-id'] ?? headers['apim-request-id'];
  if (typeof id !== 'string' || id === '') return null;
  return id.length > MAX_UPSTREAM_ID ? id.slice(0, MAX_UPSTREAM_ID) : id;
}
