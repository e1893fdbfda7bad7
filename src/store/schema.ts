import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table shapes as stored. Portable across SQLite and PostgreSQL: ids are UUIDv7 text, times are
 * integer epoch milliseconds (bigint in PostgreSQL), booleans are 0/1 integers.
 */
export interface ProjectsTable {
  id: string;
  name: string;
  /** Opaque to the store: encrypted by the projects layer before it arrives here. */
  api_key_encrypted: string;
  api_key_hint: string;
  base_url: string | null;
  is_active: number;
  created_at: number;
  updated_at: number;
}

export interface TokensTable {
  id: string;
  project_id: string;
  token_hash: string;
  token_hint: string;
  name: string | null;
  is_active: number;
  expires_at: number | null;
  revoked_at: number | null;
  max_requests: number | null;
  request_count: Generated<number>;
  last_used_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface UsageRecordsTable {
  id: string;
  request_id: string;
  token_id: string;
  project_id: string;
  method: string;
  path: string;
  model: string | null;
  status: number;
  is_stream: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  finish_reason: string | null;
  upstream_ms: number | null;
  ttfb_ms: number | null;
  duration_ms: number;
  bytes_in: number;
  bytes_out: number;
  error: string | null;
  created_at: number;
}

export interface Database {
  projects: ProjectsTable;
  tokens: TokensTable;
  usage_records: UsageRecordsTable;
}

export type ProjectRow = Selectable<ProjectsTable>;
export type NewProjectRow = Insertable<ProjectsTable>;
export type ProjectPatch = Updateable<ProjectsTable>;
export type TokenRow = Selectable<TokensTable>;
export type NewTokenRow = Insertable<TokensTable>;
export type TokenPatch = Updateable<TokensTable>;
export type UsageRow = Selectable<UsageRecordsTable>;
export type NewUsageRow = Insertable<UsageRecordsTable>;
