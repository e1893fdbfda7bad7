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
