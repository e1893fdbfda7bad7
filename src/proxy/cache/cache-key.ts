import { createHash } from 'node:crypto';
import type { RequestBody } from '../request-body.js';

/**
 * Request headers that change the answer, and so are part of the key: the organization and
 * project the upstream bills and whose models it serves, beta features, and the formats asked for
 * and sent. Every other header (user agents, SDK telemetry, tracing) is left out; the credentials
 * are the project's, which the key names.
 */
export const KEYED_HEADERS = [
  'accept',
  'content-type',
  'openai-beta',
  'openai-organization',
  'openai-project',
] as const;

/** What a cache key is made of. */
export interface KeyParts {
  /** Never shared: a project's answers are found only by the same project. */
  projectId: string;
  /** Where the request is sent: the chosen key's origin and path prefix (a pool's keys on one upstream share entries). */
  upstream: string;
  method: string;
  /** Path with the query string, as the client sent it. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: RequestBody;
}

/**
 * The cache key: SHA-256 (hex) of the parts, each length-prefixed so no two sets of parts read
 * alike, the body in canonical JSON (object keys sorted, whitespace gone) so key order and
 * formatting do not split entries. A body that is not a JSON object is hashed as its bytes. The
 * key is never shown to a client or logged.
 */
export function cacheKey(p: KeyParts): string {
  const h = createHash('sha256');
  const part = (s: string) => h.update(`${s.length}:${s}`);
  part('llm-proxy-cache-v1');
  part(p.projectId);
  part(p.upstream);
  part(p.method);
  part(p.url);
  for (const name of KEYED_HEADERS) {
    const v = p.headers[name];
    part(v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v);
  }
  const canonical = canonicalBody(p.body);
  if (canonical === undefined) h.update(p.body.bytes);
  else part(canonical);
  return h.digest('hex');
}

const LONG_NUMBER = /\d{16}/;

function canonicalBody(body: RequestBody): string | undefined {
  const obj = body.object();
  if (obj === null) return undefined;
  // Numbers of 16 digits or more may not survive a round trip through a double (two seeds could
  // read alike): such a body is keyed by its bytes.
  if (LONG_NUMBER.test(body.bytes.toString('latin1'))) return undefined;
  try {
    return canonicalJson(obj);
  } catch {
    // Nesting deeper than the stack (a hostile body): hashed as its bytes instead.
    return undefined;
  }
}

/** JSON with object keys in sorted order at every depth. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
