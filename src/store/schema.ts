import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table shapes as stored. Portable across SQLite and PostgreSQL: ids are UUIDv7 text, times are
 * integer epoch milliseconds (bigint in PostgreSQL), booleans are 0/1 integers.
 */
/** Limit columns shared by tokens and projects (see limits/limits.ts). */
export interface LimitColumns {
  requests_per_minute: number | null;
  /** Requests in flight at once (migration 0004). */
  max_concurrent: number | null;
  tokens_per_minute: number | null;
  budget_nano_usd: number | null;
  budget_period: Generated<string>;
  /** JSON array of model globs; null for no restriction. */
  allowed_models: string | null;
  /** JSON array of endpoint patterns ("POST /v1/chat/*"); null for no restriction. */
  allowed_endpoints: string | null;
}

export interface ProjectsTable extends LimitColumns {
  id: string;
  name: string;
  max_requests: number | null;
  request_count: Generated<number>;
  /** Opaque to the store: encrypted by the projects layer before it arrives here. */
  api_key_encrypted: string;
  api_key_hint: string;
  base_url: string | null;
  is_active: number;
  /** 1: a 5xx or timeout is retried without an Idempotency-Key (migration 0013). */
  retry_server_errors: Generated<number>;
  /** Seconds its responses are cached (migration 0014); null: not cached. */
  cache_ttl_seconds: number | null;
  created_at: number;
  updated_at: number;
}

/** One upstream key of a project's pool (migration 0012, project-keys-repo.ts). */
export interface ProjectKeysTable {
  id: string;
  project_id: string;
  /** Unique within the project. */
  name: string;
  /** Opaque to the store: encrypted by the projects layer before it arrives here. */
  key_encrypted: string;
  key_hint: string;
  /** Null: the project's base_url, else the proxy's default upstream. */
  base_url: string | null;
  /** `bearer` or `api-key`. */
  auth_style: string;
  weight: number;
  enabled: number;
  /** 1: offer HTTP/2 to the key's upstream (migration 0016; 0 when not given). */
  http2: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface TokensTable extends LimitColumns {
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
  cost_nano_usd: number | null;
  /**
   * 'reported' by the upstream, 'estimated' by the proxy (stream cut short), 'missing', or
   * 'unfinished' (the process stopped while the request was in flight; recovered from the journal).
   */
  usage_status: string;
  created_at: number;
  /** The project key the request was sent with (migration 0012); null when none was. */
  upstream_key_id: string | null;
  /** Times the request was sent again after a failed attempt (migration 0013). */
  retries: Generated<number>;
  /** Where the answer came from (migration 0014): null the upstream, 'cache', 'idempotent_replay'. */
  served_from: string | null;
  /** The response's `service_tier` (migration 0018); null when it reported none. */
  service_tier: string | null;
  /** JSON of the units billed besides text tokens (migration 0018, usage/cost.ts BilledUnits); null when none. */
  billed_units: string | null;
  /** The batch or background response the record accounts for (migration 0019); null for a request. */
  job_id: string | null;
  /** The upstream's id of its answer (migration 0020): `x-request-id`, a realtime response's id; null when none. */
  upstream_request_id: string | null;
}

export interface UsageRollupsTable {
  bucket_start: number;
  token_id: string;
  project_id: string;
  model: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_nano_usd: number;
  unpriced_requests: number;
  estimated_requests: number;
  duration_ms_sum: number;
  bytes_in: number;
  bytes_out: number;
}

/** Rollups are kept per hour: `bucket_start` is the start of the record's hour (UTC epoch ms). */
export const HOUR = 3_600_000;
export const hourStart = (ms: number) => ms - (ms % HOUR);

/** Every column of usage_records: `satisfies` fails to compile when one is missing or unknown. */
export const RECORD_COLUMN_SET = {
  id: true,
  request_id: true,
  token_id: true,
  project_id: true,
  method: true,
  path: true,
  model: true,
  status: true,
  is_stream: true,
  prompt_tokens: true,
  completion_tokens: true,
  total_tokens: true,
  cached_tokens: true,
  reasoning_tokens: true,
  finish_reason: true,
  upstream_ms: true,
  ttfb_ms: true,
  duration_ms: true,
  bytes_in: true,
  bytes_out: true,
  error: true,
  cost_nano_usd: true,
  usage_status: true,
  created_at: true,
  upstream_key_id: true,
  retries: true,
  served_from: true,
  service_tier: true,
  billed_units: true,
  job_id: true,
  upstream_request_id: true,
} satisfies Record<keyof NewUsageRow, true>;
export const RECORD_COLUMNS = Object.keys(RECORD_COLUMN_SET) as (keyof NewUsageRow)[];

/**
 * A row's values in RECORD_COLUMNS order (a column with a database default gets it), for an insert
 * that lists every column: the usage worker's prepared statement. Written out, because mapping the
 * column names over each row cost the worker about 4 µs a record, more than a column's share of
 * SQLite's own work. schema.test.ts holds it to RECORD_COLUMNS.
 */
export function recordValues(r: NewUsageRow): unknown[] {
  return [
    r.id,
    r.request_id,
    r.token_id,
    r.project_id,
    r.method,
    r.path,
    r.model ?? null,
    r.status,
    r.is_stream,
    r.prompt_tokens ?? null,
    r.completion_tokens ?? null,
    r.total_tokens ?? null,
    r.cached_tokens ?? null,
    r.reasoning_tokens ?? null,
    r.finish_reason ?? null,
    r.upstream_ms ?? null,
    r.ttfb_ms ?? null,
    r.duration_ms,
    r.bytes_in,
    r.bytes_out,
    r.error ?? null,
    r.cost_nano_usd ?? null,
    r.usage_status,
    r.created_at,
    r.upstream_key_id ?? null,
    r.retries ?? 0,
    r.served_from ?? null,
    r.service_tier ?? null,
    r.billed_units ?? null,
    r.job_id ?? null,
    r.upstream_request_id ?? null,
  ];
}

/** The additive columns of usage_rollups: what a batch adds and a query sums. */
export const ROLLUP_SUM_COLUMNS = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_nano_usd',
  'unpriced_requests',
  'estimated_requests',
  'duration_ms_sum',
  'bytes_in',
  'bytes_out',
] as const;

/** Column sums of usage_rollups over a group. */
export type RollupSums = Pick<UsageRollupsTable, (typeof ROLLUP_SUM_COLUMNS)[number]>;

/**
 * Every sum at zero: where a new rollup row or a total starts. A literal (the type makes it name
 * every column), not built from the list: the usage worker makes one per group in every batch.
 */
export const zeroSums = (): RollupSums => ({
  requests: 0,
  errors: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  total_tokens: 0,
  cached_tokens: 0,
  reasoning_tokens: 0,
  cost_nano_usd: 0,
  unpriced_requests: 0,
  estimated_requests: 0,
  duration_ms_sum: 0,
  bytes_in: 0,
  bytes_out: 0,
});

export interface UsageLatencyRollupsTable {
  bucket_start: number;
  token_id: string;
  project_id: string;
  model: string;
  le: number;
  count: number;
}

export interface PricingOverridesTable {
  model: string;
  input: number;
  cached_input: number | null;
  output: number;
  reasoning: number | null;
  /** JSON of the other price fields (audio and image rates, per_image, per_minute, tiers…; migration 0018); null when none. */
  units?: string | null;
  updated_at: number;
}

/** One audit event (migration 0005); `hash` chains it to the event before (src/audit/chain.ts). */
export interface AuditEventsTable {
  id: string;
  /** Position in the chain: 1, 2, 3, … with no gaps (pruning removes the oldest, see audit.pruned). */
  seq: number;
  time: number;
  /** `management-token`, `system`, `token`, `anonymous` (later `user`). */
  actor_type: string;
  actor_id: string | null;
  client_ip: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  /** JSON `{ before, after }` of the changed fields; never a secret. */
  changes: string | null;
  /** JSON of what else the event says (counts, ids, a filter, a reason). */
  details: string | null;
  request_id: string | null;
  /** Id of the encryption key whose derived audit key signed the event. */
  key_id: string;
  prev_hash: string;
  hash: string;
}

/** The chain's head, one row (`id` = 'main'): locked by every append, it serialises them. */
export interface AuditChainTable {
  id: string;
  seq: number;
  hash: string;
  updated_at: number;
}

/** An admin user of the management API (migration 0006). */
export interface AdminUsersTable {
  id: string;
  /** Lower-cased, unique. */
  username: string;
  /** `viewer`, `operator` or `admin`. */
  role: string;
  /** `scrypt$N$r$p$<salt>$<hash>` (src/access/passwords.ts); never leaves the server. */
  password_hash: string;
  disabled: number;
  last_sign_in_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A signed-in browser session (migration 0006); the cookie's value is stored only as its hash. */
export interface AdminSessionsTable {
  /** Public UUIDv7 (lists, `DELETE /manage/sessions/{id}`); not the cookie. */
  id: string;
  secret_hash: string;
  secret_hint: string;
  /** An admin_users id, `management-token`, or `oidc:<subject>`. */
  user_id: string;
  username: string;
  role: string;
  /** How the session was signed in: `token`, `password`, `oidc`. */
  method: string;
  client_ip: string | null;
  user_agent: string | null;
  created_at: number;
  /** Written at most once a minute per session; idle expiry counts from it. */
  last_seen_at: number;
  /** Absolute expiry. */
  expires_at: number;
}

/** One management write that alters what tokens are admitted with (migration 0007, changes-repo.ts). */
export interface ChangesTable {
  seq: Generated<number>;
  /** 'token' (token_id), 'project' (every token of project_id) or 'all'. */
  kind: string;
  token_id: string | null;
  project_id: string | null;
  at: number;
}

export interface Database {
  projects: ProjectsTable;
  project_keys: ProjectKeysTable;
  tokens: TokensTable;
  usage_records: UsageRecordsTable;
  usage_rollups: UsageRollupsTable;
  usage_latency_rollups: UsageLatencyRollupsTable;
  pricing_overrides: PricingOverridesTable;
  audit_events: AuditEventsTable;
  audit_chain: AuditChainTable;
  admin_users: AdminUsersTable;
  admin_sessions: AdminSessionsTable;
  changes: ChangesTable;
  leases: LeasesTable;
  instances: InstancesTable;
  idempotency_keys: IdempotencyKeysTable;
  tracked_jobs: TrackedJobsTable;
}

/** Who runs a once-per-cluster background job, until when (migration 0009, leases-repo.ts). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
  acquired_at: number;
}

/** A running server process, kept by its heartbeat (migration 0011, instances-repo.ts). */
export interface InstancesTable {
  id: string;
  host: string;
  pid: number;
  worker: number | null;
  version: string;
  listen: string | null;
  started_at: number;
  last_seen_at: number;
  in_flight: number;
  draining: number;
  database_state: string;
  redis_state: string | null;
}

/** A request's Idempotency-Key, per project (migration 0015, idempotency-keys-repo.ts). */
export interface IdempotencyKeysTable {
  project_id: string;
  key: string;
  fingerprint: string;
  /** `in_flight` or `done`. */
  state: string;
  owner: string | null;
  request_id: string | null;
  lease_expires_at: number | null;
  response: Buffer | null;
  not_kept: number;
  created_at: number;
  expires_at: number;
}

export type InstanceRow = Selectable<InstancesTable>;

export type ProjectRow = Selectable<ProjectsTable>;
export type NewProjectRow = Insertable<ProjectsTable>;
export type ProjectPatch = Updateable<ProjectsTable>;
export type ProjectKeyRow = Selectable<ProjectKeysTable>;
export type NewProjectKeyRow = Insertable<ProjectKeysTable>;
export type ProjectKeyPatch = Updateable<ProjectKeysTable>;
export type TokenRow = Selectable<TokensTable>;
export type NewTokenRow = Insertable<TokensTable>;
export type TokenPatch = Updateable<TokensTable>;
export type UsageRow = Selectable<UsageRecordsTable>;
export type NewUsageRow = Insertable<UsageRecordsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type AdminUserRow = Selectable<AdminUsersTable>;
export type AdminUserPatch = Updateable<AdminUsersTable>;
export type AdminSessionRow = Selectable<AdminSessionsTable>;

/** A batch or background response followed until its usage is recorded (migration 0019; src/jobs/). */
export interface TrackedJobsTable {
  id: string;
  kind: string;
  token_id: string;
  project_id: string;
  upstream_key_id: string | null;
  endpoint: string;
  /** 'pending' | 'recording' | 'done' | 'dropped'. */
  state: string;
  upstream_status: string;
  next_poll_at: number;
  attempts: Generated<number>;
  deadline_at: number;
  recorded_at: number | null;
  records: Generated<number>;
  cost_nano_usd: Generated<number>;
  error: string | null;
  created_at: number;
  updated_at: number;
}
export type TrackedJobRow = Selectable<TrackedJobsTable>;
export type NewTrackedJobRow = Insertable<TrackedJobsTable>;
