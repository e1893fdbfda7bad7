import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Db } from '../../src/store/database.js';
import type { StatsFilter, StatsGroup } from '../../src/store/usage-stats-repo.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Without a cost though it used a model (src/usage/batch.ts): failed and free requests are not unpriced. */
const UNPRICED = sql`cost_nano_usd is null and (usage_status in ('reported', 'estimated') or (usage_status = 'unfinished' and model is not null))`;

/**
 * Usage sums computed straight from raw usage_records with a plain SQL GROUP BY: the reference the
 * rollups (and so the usage API) must equal. Keys: bucket start in ms (hour, day), model ('' for
 * none), token id, project id, or '' when ungrouped.
 */
export async function recomputeFromRecords(
  db: Db,
  f: StatsFilter,
  group?: StatsGroup,
): Promise<Map<string, Record<string, number>>> {
  const key = {
    hour: sql`created_at - (created_at % ${sql.lit(HOUR_MS)})`,
    day: sql`created_at - (created_at % ${sql.lit(DAY_MS)})`,
    model: sql`coalesce(model, '')`,
    token: sql`token_id`,
    project: sql`project_id`,
    none: sql`null`,
  }[group ?? 'none'];
  let q = db
    .selectFrom('usage_records')
    .select([
      key.as('k'),
      sql<string>`count(*)`.as('requests'),
      sql<string>`sum(case when status >= 400 or error is not null then 1 else 0 end)`.as('errors'),
      sql<string>`sum(coalesce(prompt_tokens, 0))`.as('prompt_tokens'),
      sql<string>`sum(coalesce(completion_tokens, 0))`.as('completion_tokens'),
      sql<string>`sum(coalesce(total_tokens, 0))`.as('total_tokens'),
      sql<string>`sum(coalesce(cached_tokens, 0))`.as('cached_tokens'),
      sql<string>`sum(coalesce(reasoning_tokens, 0))`.as('reasoning_tokens'),
      sql<string>`sum(coalesce(cost_nano_usd, 0))`.as('cost_nano_usd'),
      sql<string>`sum(case when ${UNPRICED} then 1 else 0 end)`.as('unpriced_requests'),
      sql<string>`sum(case when usage_status = 'estimated' then 1 else 0 end)`.as('estimated_requests'),
      sql<string>`sum(duration_ms)`.as('duration_ms_sum'),
      sql<string>`sum(bytes_in)`.as('bytes_in'),
      sql<string>`sum(bytes_out)`.as('bytes_out'),
    ]);
  if (f.projectId) q = q.where('project_id', '=', f.projectId);
  if (f.tokenId) q = q.where('token_id', '=', f.tokenId);
  if (f.model !== undefined) q = q.where(sql`coalesce(model, '')`, '=', f.model);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  if (group) q = q.groupBy(key);
  const rows = (await q.execute()) as Array<Record<string, unknown>>;
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    if (Number(r.requests) === 0) continue;
    const { k, ...rest } = r;
    out.set(String(k ?? ''), Object.fromEntries(Object.entries(rest).map(([c, v]) => [c, Number(v)])));
  }
  return out;
}

/** The API's totals for recomputed sums (cost_usd independently formatted from the nano-dollars). */
export function apiTotals(s: Record<string, number>) {
  const nano = s.cost_nano_usd ?? 0;
  return {
    requests: s.requests,
    errors: s.errors,
    prompt_tokens: s.prompt_tokens,
    completion_tokens: s.completion_tokens,
    total_tokens: s.total_tokens,
    cached_tokens: s.cached_tokens,
    reasoning_tokens: s.reasoning_tokens,
    cost_usd: `${Math.floor(nano / 1e9)}.${String(nano % 1e9).padStart(9, '0')}`,
    cost_nano_usd: nano,
    cost_micro_usd: Math.round(nano / 1000),
    unpriced_requests: s.unpriced_requests,
    estimated_requests: s.estimated_requests,
    // Within 0.01: the API sums the durations per rollup, this per record, and a float sum taken in
    // another order can round the average to the neighbouring hundredth (closeTo 1.7: within 0.01).
    avg_duration_ms: s.requests ? expect.closeTo((s.duration_ms_sum ?? 0) / (s.requests ?? 1), 1.7) : null,
    bytes_in: s.bytes_in,
    bytes_out: s.bytes_out,
  };
}
