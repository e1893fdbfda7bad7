import { type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { Db } from './database.js';
import { type Database, ROLLUP_SUM_COLUMNS, type RollupSums, type UsageRow } from './schema.js';

/** What a statistics query may be grouped by. `day` sums the hourly rows per UTC day. */
export type StatsGroup = 'hour' | 'day' | 'model' | 'token' | 'project';

/** Filters on the rollups; `from`/`to` are hour-aligned epoch ms, `from` inclusive and `to` exclusive. */
export interface StatsFilter {
  projectId?: string | undefined;
  tokenId?: string | undefined;
  /** Exact model name as recorded; '' selects requests that had no model. */
  model?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

export type { RollupSums };

/** Which usage records a list shows; every filter given must match. */
export interface RecordsFilter {
  projectId?: string | undefined;
  tokenId?: string | undefined;
  /** The batch or background response the records account for. */
  jobId?: string | undefined;
  /** true: only records of batches and background responses; false: only ordinary requests. */
  jobs?: boolean | undefined;
}

/** A job's records summed as the rollups sum requests (src/usage/batch.ts), from usage_records by job_id. */
const UNPRICED = sql`cost_nano_usd is null and (usage_status in ('reported', 'estimated') or (usage_status = 'unfinished' and model is not null))`;
const RECORD_SUMS = {
  requests: sql`count(*)`,
  errors: sql`sum(case when status >= 400 or error is not null then 1 else 0 end)`,
  prompt_tokens: sql`sum(coalesce(prompt_tokens, 0))`,
  completion_tokens: sql`sum(coalesce(completion_tokens, 0))`,
  total_tokens: sql`sum(coalesce(total_tokens, 0))`,
  cached_tokens: sql`sum(coalesce(cached_tokens, 0))`,
  reasoning_tokens: sql`sum(coalesce(reasoning_tokens, 0))`,
  cost_nano_usd: sql`sum(coalesce(cost_nano_usd, 0))`,
  unpriced_requests: sql`sum(case when ${UNPRICED} then 1 else 0 end)`,
  estimated_requests: sql`sum(case when usage_status in ('estimated', 'unfinished') then 1 else 0 end)`,
  duration_ms_sum: sql`sum(duration_ms)`,
  bytes_in: sql`sum(bytes_in)`,
  bytes_out: sql`sum(bytes_out)`,
} satisfies Record<(typeof ROLLUP_SUM_COLUMNS)[number], RawBuilder<unknown>>;

/**
 * The group a row belongs to: `key` is the bucket start (hour, day), the model, the token id or the
 * project id; `project` is a token's project (only when grouping by token). Null when ungrouped.
 */
export interface GroupKey {
  key: string | number | null;
  project: string | null;
}

export interface SumsRow extends GroupKey {
  sums: RollupSums;
}

export interface LatencyRow extends GroupKey {
  /** Index into LATENCY_BUCKETS_MS. */
  le: number;
  count: number;
}

const DAY_MS = 86_400_000;

/**
 * The SQL expression a group is keyed by. Written as literal SQL (no bound parameters) so that
 * PostgreSQL sees the SELECT and GROUP BY expressions as the same.
 */
function keyExpr(group: StatsGroup | undefined): RawBuilder<unknown> | undefined {
  switch (group) {
    case 'hour':
      return sql`bucket_start`;
    case 'day':
      return sql`bucket_start - (bucket_start % ${sql.lit(DAY_MS)})`;
    case 'model':
      return sql`model`;
    case 'token':
      return sql`token_id`;
    case 'project':
      return sql`project_id`;
    default:
      return undefined;
  }
}

type RollupTable = 'usage_rollups' | 'usage_latency_rollups';

function filtered<T extends RollupTable>(
  q: SelectQueryBuilder<Database, T, object>,
  f: StatsFilter,
): SelectQueryBuilder<Database, T, object> {
  // Both rollup tables have these columns; the casts keep Kysely's per-table typing out of the way.
  let out = q as unknown as SelectQueryBuilder<Database, 'usage_rollups', object>;
  if (f.projectId !== undefined) out = out.where('project_id', '=', f.projectId);
  if (f.tokenId !== undefined) out = out.where('token_id', '=', f.tokenId);
  if (f.model !== undefined) out = out.where('model', '=', f.model);
  if (f.from !== undefined) out = out.where('bucket_start', '>=', f.from);
  if (f.to !== undefined) out = out.where('bucket_start', '<', f.to);
  return out as unknown as SelectQueryBuilder<Database, T, object>;
}

/** PostgreSQL returns sums of bigint as numeric text; SQLite as numbers. Both become numbers. */
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/**
 * Usage statistics read from the hourly rollups (usage_rollups, usage_latency_rollups) only, never
 * from raw usage_records: the cost of a query grows with hours × tokens × models, not with requests.
 */
export class UsageStatsRepo {
  constructor(private readonly db: Db) {}

  /** Sums per group (one row with `key: null` when ungrouped; none when nothing matched). */
  async sums(filter: StatsFilter, group?: StatsGroup): Promise<SumsRow[]> {
    const key = keyExpr(group);
    let q = filtered(this.db.selectFrom('usage_rollups'), filter).select([
      ...ROLLUP_SUM_COLUMNS.map((c) => sql<number | string | null>`sum(${sql.ref(c)})`.as(c)),
      (key ?? sql`null`).as('g_key'),
      (group === 'token' ? sql`project_id` : sql`null`).as('g_project'),
    ]);
    if (key) q = q.groupBy(group === 'token' ? [key, sql`project_id`] : [key]);
    const rows = (await q.execute()) as Array<Record<string, unknown>>;
    const out: SumsRow[] = [];
    for (const r of rows) {
      const sums = Object.fromEntries(ROLLUP_SUM_COLUMNS.map((c) => [c, num(r[c])])) as unknown as RollupSums;
      // An aggregate without GROUP BY always yields one row, with null sums when nothing matched.
      if (!key && r.requests === null) continue;
      out.push({ key: normaliseKey(r.g_key, group), project: (r.g_project as string | null) ?? null, sums });
    }
    return out;
  }

  /**
   * Sums per time bucket, token and model (with the token's project) over the matching hours: the
   * finest grouping the overview needs, folded by the caller into the series, the totals and the
   * top projects, tokens and models, so the window is read once. With `hour` the grouping is the
   * primary key's own order (bucket_start, token_id, model), which SQLite aggregates as it reads.
   */
  async sumsPerBucketTokenModel(
    filter: StatsFilter,
    bucket: 'hour' | 'day',
  ): Promise<Array<{ key: number; tokenId: string; projectId: string; model: string; sums: RollupSums }>> {
    const key = keyExpr(bucket) as RawBuilder<unknown>;
    const rows = (await filtered(this.db.selectFrom('usage_rollups'), filter)
      .select([
        ...ROLLUP_SUM_COLUMNS.map((c) => sql<number | string | null>`sum(${sql.ref(c)})`.as(c)),
        key.as('g_key'),
        sql<string>`token_id`.as('token_id'),
        sql<string>`model`.as('model'),
        // A token belongs to one project: min() only satisfies PostgreSQL's GROUP BY rule.
        sql<string>`min(project_id)`.as('project_id'),
      ])
      .groupBy([key, sql`token_id`, sql`model`])
      .execute()) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      key: Number(r.g_key),
      tokenId: String(r.token_id),
      projectId: String(r.project_id),
      model: String(r.model),
      sums: Object.fromEntries(ROLLUP_SUM_COLUMNS.map((c) => [c, num(r[c])])) as unknown as RollupSums,
    }));
  }

  /** Latency histogram counts per group and bucket, summed over the matching hours. */
  async latency(filter: StatsFilter, group?: StatsGroup): Promise<LatencyRow[]> {
    const key = keyExpr(group);
    let q = filtered(this.db.selectFrom('usage_latency_rollups'), filter).select([
      sql<number | string>`sum(${sql.ref('count')})`.as('n'),
      sql<number>`le`.as('le'),
      (key ?? sql`null`).as('g_key'),
      (group === 'token' ? sql`project_id` : sql`null`).as('g_project'),
    ]);
    const by = [sql`le`, ...(key ? [key] : []), ...(group === 'token' ? [sql`project_id`] : [])];
    q = q.groupBy(by);
    const rows = (await q.execute()) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      key: normaliseKey(r.g_key, group),
      project: (r.g_project as string | null) ?? null,
      le: num(r.le),
      count: num(r.n),
    }));
  }

  /**
   * A job's usage summed from its records (the rollups know no jobs), grouped by model or not; one
   * indexed read of the job's records (usage_job_idx), at most one per line of a batch.
   */
  async jobSums(filter: StatsFilter & { jobId: string }, group?: 'model'): Promise<SumsRow[]> {
    let q = this.db
      .selectFrom('usage_records')
      .select([
        ...ROLLUP_SUM_COLUMNS.map((c) => RECORD_SUMS[c].as(c)),
        (group === 'model' ? sql`coalesce(model, '')` : sql`null`).as('g_key'),
      ])
      .where('job_id', '=', filter.jobId);
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
    if (filter.tokenId !== undefined) q = q.where('token_id', '=', filter.tokenId);
    if (filter.model !== undefined) q = q.where(sql`coalesce(model, '')`, '=', filter.model);
    if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('created_at', '<', filter.to);
    if (group) q = q.groupBy(sql`coalesce(model, '')`);
    const rows = (await q.execute()) as Array<Record<string, unknown>>;
    const out: SumsRow[] = [];
    for (const r of rows) {
      if (num(r.requests) === 0) continue;
      const sums = Object.fromEntries(ROLLUP_SUM_COLUMNS.map((c) => [c, num(r[c])])) as unknown as RollupSums;
      out.push({ key: normaliseKey(r.g_key, group), project: null, sums });
    }
    return out;
  }

  /**
   * Usage records newest first (created_at, then id, descending), `limit + 1` of them so the caller
   * knows whether another page exists; `after` is the last row of the previous page. Served by the
   * (token_id, created_at), (project_id, created_at) and (job_id, created_at) indexes.
   */
  async records(f: RecordsFilter, limit: number, after?: { createdAt: number; id: string }): Promise<UsageRow[]> {
    let q = this.db.selectFrom('usage_records').selectAll();
    if (f.tokenId !== undefined) q = q.where('token_id', '=', f.tokenId);
    if (f.projectId !== undefined) q = q.where('project_id', '=', f.projectId);
    if (f.jobId !== undefined) q = q.where('job_id', '=', f.jobId);
    if (f.jobs === true) q = q.where('job_id', 'is not', null);
    if (f.jobs === false) q = q.where('job_id', 'is', null);
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)]),
        ]),
      );
    }
    return q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  /** One usage record by its id, which is the request id the proxy answered with. */
  async record(id: string): Promise<UsageRow | undefined> {
    return this.db.selectFrom('usage_records').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Names of tokens by id (tokens that were deleted are absent). */
  async tokenNames(ids: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('tokens')
        .select(['id', 'name'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.id, r.name);
    }
    return out;
  }

  /** Names of projects by id (projects that were deleted are absent). */
  async projectNames(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('projects')
        .select(['id', 'name'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.id, r.name);
    }
    return out;
  }
}

function normaliseKey(v: unknown, group: StatsGroup | undefined): string | number | null {
  if (v === null || v === undefined) return null;
  return group === 'hour' || group === 'day' ? Number(v) : String(v);
}
