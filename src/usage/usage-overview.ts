import { toIso } from '../shared/clock.js';
import { type RollupSums, zeroSums } from '../store/schema.js';
import type { StatsFilter, UsageStatsRepo } from '../store/usage-stats-repo.js';
import {
  addSums,
  ceilHour,
  floorHour,
  type LatencyPercentiles,
  percentiles,
  toTotals,
  type UsageTotals,
} from './usage-totals.js';

/** What the admin dashboard shows for a time window, in one answer. */
export interface UsageOverview {
  from: string;
  to: string;
  bucket: 'hour' | 'day';
  /** One entry per bucket with traffic, oldest first (buckets without traffic are absent). */
  series: Array<{ start: string } & UsageTotals>;
  totals: UsageTotals;
  latency_ms: LatencyPercentiles;
  /** The costliest (then busiest) projects, tokens and models; at most `top` of each. */
  top: {
    projects: Array<{ project_id: string; project_name: string | null } & UsageTotals>;
    tokens: Array<
      { token_id: string; token_name: string | null; project_id: string; project_name: string | null } & UsageTotals
    >;
    models: Array<{ model: string | null } & UsageTotals>;
  };
}

export interface OverviewQuery {
  projectId?: string | undefined;
  /** Epoch ms; rounded down to the hour. */
  from: number;
  /** Epoch ms; rounded up to the hour. */
  to: number;
  bucket: 'hour' | 'day';
  top: number;
}

const byCostThenRequests = <K>(a: [K, RollupSums], b: [K, RollupSums]) =>
  b[1].cost_nano_usd - a[1].cost_nano_usd || b[1].requests - a[1].requests || String(a[0]).localeCompare(String(b[0]));

function ranked<K>(groups: Map<K, RollupSums>, top: number): Array<[K, RollupSums]> {
  return [...groups].sort(byCostThenRequests).slice(0, top);
}

function fold<K>(into: Map<K, RollupSums>, key: K, sums: RollupSums): void {
  let g = into.get(key);
  if (!g) {
    g = zeroSums();
    into.set(key, g);
  }
  addSums(g, sums);
}

/**
 * The dashboard's numbers for a window from two reads of the rollups, however many tokens and hours
 * it covers: sums per bucket, token and model (folded here into the series, the totals and the top
 * projects, tokens and models), and the latency histogram. The four `GET /manage/usage` reports it
 * replaces would read the window eight times and compute percentiles for every group.
 */
export async function usageOverview(repo: UsageStatsRepo, q: OverviewQuery): Promise<UsageOverview> {
  const filter: StatsFilter = { projectId: q.projectId, from: floorHour(q.from), to: ceilHour(q.to) };
  const [rows, latency] = await Promise.all([repo.sumsPerBucketTokenModel(filter, q.bucket), repo.latency(filter)]);

  const totals = zeroSums();
  const series = new Map<number, RollupSums>();
  const projects = new Map<string, RollupSums>();
  const tokens = new Map<string, RollupSums>();
  const tokenProject = new Map<string, string>();
  const models = new Map<string, RollupSums>();
  for (const r of rows) {
    addSums(totals, r.sums);
    fold(series, r.key, r.sums);
    fold(projects, r.projectId, r.sums);
    fold(tokens, r.tokenId, r.sums);
    fold(models, r.model, r.sums);
    tokenProject.set(r.tokenId, r.projectId);
  }
  const topProjects = ranked(projects, q.top);
  const topTokens = ranked(tokens, q.top);
  const [tokenNames, projectNames] = await Promise.all([
    repo.tokenNames(topTokens.map(([id]) => id)),
    repo.projectNames([
      ...new Set([...topProjects.map(([id]) => id), ...topTokens.map(([id]) => tokenProject.get(id) as string)]),
    ]),
  ]);

  const hist = new Map<number, number>();
  for (const l of latency) hist.set(l.le, (hist.get(l.le) ?? 0) + l.count);

  return {
    from: toIso(filter.from as number) as string,
    to: toIso(filter.to as number) as string,
    bucket: q.bucket,
    series: [...series]
      .sort((a, b) => a[0] - b[0])
      .map(([start, sums]) => ({ start: toIso(start) as string, ...toTotals(sums) })),
    totals: toTotals(totals),
    latency_ms: percentiles(hist),
    top: {
      projects: topProjects.map(([id, sums]) => ({
        project_id: id,
        project_name: projectNames.get(id) ?? null,
        ...toTotals(sums),
      })),
      tokens: topTokens.map(([id, sums]) => {
        const projectId = tokenProject.get(id) as string;
        return {
          token_id: id,
          token_name: tokenNames.get(id) ?? null,
          project_id: projectId,
          project_name: projectNames.get(projectId) ?? null,
          ...toTotals(sums),
        };
      }),
      models: ranked(models, q.top).map(([m, sums]) => ({ model: m === '' ? null : m, ...toTotals(sums) })),
    },
  };
}
