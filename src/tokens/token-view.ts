import { type LimitFields, limitFields } from '../limits/limit-fields.js';
import { toIso } from '../shared/clock.js';
import type { TokenRow } from '../store/schema.js';

/** What the API shows of a token: never the hash, never the plaintext (except once, at creation). */
export interface TokenView extends LimitFields {
  id: string;
  project_id: string;
  name: string | null;
  token_hint: string;
  is_active: boolean;
  status: 'active' | 'expired' | 'revoked' | 'exhausted';
  expires_at: string | null;
  revoked_at: string | null;
  request_count: number;
  last_used_at: string | null;
  created_at: string;
  updated_at: string;
}

function tokenStatus(row: TokenRow, now: number): TokenView['status'] {
  if (!row.is_active && row.revoked_at !== null) return 'revoked';
  // Expired tokens are deactivated by the maintenance job without a revoked_at: still 'expired'.
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  if (!row.is_active) return 'revoked';
  if (row.max_requests !== null && row.request_count >= row.max_requests) return 'exhausted';
  return 'active';
}

export function toTokenView(row: TokenRow, now: number): TokenView {
  return {
    id: row.id,
    project_id: row.project_id,
    name: row.name,
    token_hint: row.token_hint,
    is_active: row.is_active === 1,
    status: tokenStatus(row, now),
    expires_at: toIso(row.expires_at),
    revoked_at: toIso(row.revoked_at),
    ...limitFields(row),
    request_count: row.request_count,
    last_used_at: toIso(row.last_used_at),
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}
