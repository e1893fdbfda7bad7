/**
 * Which requests the response cache handles, and how: decided from the request line, its
 * `Cache-Control` and the project's `cache_ttl_seconds`, before anything is looked up.
 */

/**
 * POST endpoints whose answer is a function of the request: completions, embeddings, moderations,
 * responses. Never uploads (files, audio, images edits), batches, fine-tuning or any GET (a list of
 * models or files changes under the client's feet and costs nothing to ask for).
 */
export const CACHEABLE_PATHS = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/moderations',
  '/v1/responses',
]);

/** The request's cache directives (RFC 9111 §5.2.1) that the proxy honours. */
export interface RequestDirectives {
  noCache: boolean;
  noStore: boolean;
  /** Seconds; undefined when absent or malformed. */
  maxAge: number | undefined;
}

export function requestDirectives(header: string | string[] | undefined): RequestDirectives {
  const d: RequestDirectives = { noCache: false, noStore: false, maxAge: undefined };
  if (header === undefined) return d;
  const text = Array.isArray(header) ? header.join(',') : header;
  for (const raw of text.split(',')) {
    const part = raw.trim().toLowerCase();
    if (part === 'no-cache') d.noCache = true;
    else if (part === 'no-store') d.noStore = true;
    else if (part.startsWith('max-age=')) {
      const v = part.slice(8).replace(/^"(.*)"$/, '$1');
      if (/^\d{1,10}$/.test(v)) d.maxAge = Number(v);
    }
  }
  return d;
}

/** How one request uses the cache. */
export interface CachePlan {
  /** Look for a stored answer (not with `no-cache` or `max-age=0`). */
  lookup: boolean;
  /** Store a fresh 2xx answer (not with `no-store` or `max-age=0`). */
  store: boolean;
  /** How long a stored answer is kept, and the oldest one this request accepts. */
  ttlMs: number;
}

/**
 * The request's plan: undefined when the cache is not asked for (the project has no TTL and the
 * request no `max-age`); `'bypass'` when it is but the request cannot be cached (its method or
 * path, or a Responses API request run in the background, which is stateful).
 * TTL: the request's `max-age`, else the project's, capped by CACHE_MAX_TTL_SECONDS.
 */
export function cachePlan(
  method: string,
  path: string,
  d: RequestDirectives,
  projectTtlSeconds: number | null,
  maxTtlSeconds: number,
): CachePlan | 'bypass' | undefined {
  const ttl = d.maxAge ?? projectTtlSeconds;
  if (ttl === null) return undefined;
  if (method !== 'POST' || !CACHEABLE_PATHS.has(path)) return 'bypass';
  const ttlMs = Math.min(ttl, maxTtlSeconds) * 1000;
  return { lookup: ttlMs > 0 && !d.noCache, store: ttlMs > 0 && !d.noStore, ttlMs };
}

/** Cache-Status (RFC 9211) values: the cache is named `llm-proxy`. */
export const cacheStatus = {
  hit: (ttlMs: number) => `llm-proxy; hit; ttl=${Math.max(0, Math.floor(ttlMs / 1000))}`,
  /** Forwarded: looked up and not found (`uri-miss`), or not looked up as the request asked (`request`). */
  forwarded: (lookedUp: boolean, stored: boolean) =>
    `llm-proxy; fwd=${lookedUp ? 'uri-miss' : 'request'}${stored ? '; stored' : ''}`,
  bypass: 'llm-proxy; fwd=bypass',
} as const;
