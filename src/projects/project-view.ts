import { safeHint } from '../crypto/secrets.js';
import { type LimitFields, limitFields } from '../limits/limit-fields.js';
import { toIso } from '../shared/clock.js';
import type { ProjectRow } from '../store/schema.js';

/** What the API shows of a project: a masked hint of the upstream key, never the key. */
export interface ProjectView extends LimitFields {
  id: string;
  name: string;
  base_url: string | null;
  is_active: boolean;
  /** A 5xx or timeout is retried without an Idempotency-Key (proxy/failover.ts). */
  retry_server_errors: boolean;
  /** Seconds its responses are cached; null: not cached. */
  cache_ttl_seconds: number | null;
  api_key_hint: string;
  request_count: number;
  created_at: string;
  updated_at: string;
}

export function toProjectView(row: ProjectRow): ProjectView {
  return {
    id: row.id,
    name: row.name,
    base_url: row.base_url,
    is_active: row.is_active === 1,
    retry_server_errors: row.retry_server_errors === 1,
    cache_ttl_seconds: row.cache_ttl_seconds ?? null,
    // Recomputed on read: rows stored before the current masking rule may hold too much of the key.
    api_key_hint: safeHint(row.api_key_hint),
    ...limitFields(row),
    request_count: row.request_count,
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}
