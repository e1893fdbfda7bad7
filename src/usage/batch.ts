import {
  hourStart,
  type NewUsageRow,
  type UsageLatencyRollupsTable,
  type UsageRollupsTable,
  zeroSums,
} from '../store/schema.js';
import type { SubjectUse, UsageBatch } from '../store/usage-repo.js';
import { latencyBucket } from './latency-buckets.js';

/**
 * Turns queued usage records into one write: the rows, per-token and per-project request counts,
 * and the rollup deltas per hour, token and model (with a latency histogram), so statistics are
 * maintained incrementally and never need a scan of raw records.
 */
export function toBatch(rows: NewUsageRow[]): UsageBatch {
  const tokens = new Map<string, SubjectUse>();
  const projects = new Map<string, SubjectUse>();
  const rollups = new Map<string, UsageRollupsTable>();
  const latency = new Map<string, UsageLatencyRollupsTable>();
  for (const r of rows) {
    // A replay of an Idempotency-Key was charged to no cap: it does not count towards max_requests.
    const counted = r.served_from === 'idempotent_replay' ? 0 : 1;
    use(tokens, r.token_id, r.created_at, counted);
    use(projects, r.project_id, r.created_at, counted);
    const bucket = hourStart(r.created_at);
    const model = r.model ?? '';
    const key = `${bucket}|${r.token_id}|${model}`;
    let g = rollups.get(key);
    if (!g) {
      g = { ...zeroSums(), bucket_start: bucket, token_id: r.token_id, project_id: r.project_id, model };
      rollups.set(key, g);
    }
    g.requests++;
    if (r.status >= 400 || r.error) g.errors++;
    g.prompt_tokens += r.prompt_tokens ?? 0;
    g.completion_tokens += r.completion_tokens ?? 0;
    g.total_tokens += r.total_tokens ?? 0;
    g.cached_tokens += r.cached_tokens ?? 0;
    g.reasoning_tokens += r.reasoning_tokens ?? 0;
    if (r.cost_nano_usd === null || r.cost_nano_usd === undefined) {
      if (usedUnpriced(r)) g.unpriced_requests++;
    } else g.cost_nano_usd += r.cost_nano_usd;
    // An unfinished record (see journal-replay.ts) is charged the admission's estimate.
    if (r.usage_status === 'estimated' || r.usage_status === 'unfinished') g.estimated_requests++;
    g.duration_ms_sum += r.duration_ms;
    g.bytes_in += r.bytes_in;
    g.bytes_out += r.bytes_out;

    const le = latencyBucket(r.duration_ms);
    const lkey = `${key}|${le}`;
    const l = latency.get(lkey);
    if (l) l.count++;
    else
      latency.set(lkey, { bucket_start: bucket, token_id: r.token_id, project_id: r.project_id, model, le, count: 1 });
  }
  return {
    rows,
    tokenUses: [...tokens.values()],
    projectUses: [...projects.values()],
    rollups: [...rollups.values()],
    latency: [...latency.values()],
    only: toBatch,
  };
}

/**
 * Whether a record without a cost is an unpriced request: one that used a model (its usage was
 * reported or estimated, or a crash cut a request that named a model) for which there was no price,
 * so its cost is unknown. A record without a cost that used nothing (refused or failed upstream
 * without usage, `/v1/models`, files) cost nothing and is not one: that would cry "price missing"
 * where none is. test/helpers/usage-recompute.ts says the same in SQL.
 */
function usedUnpriced(r: NewUsageRow): boolean {
  if (r.usage_status === 'reported' || r.usage_status === 'estimated') return true;
  return r.usage_status === 'unfinished' && r.model !== null;
}

function use(map: Map<string, SubjectUse>, id: string, at: number, counted: number): void {
  const u = map.get(id);
  if (!u) map.set(id, { id, requests: counted, lastUsedAt: at });
  else {
    u.requests += counted;
    if (at > u.lastUsedAt) u.lastUsedAt = at;
  }
}
