import { errors } from '../errors.js';
import { toIso } from '../shared/clock.js';
import type { UsageRow } from '../store/schema.js';
import { zeroSums } from '../store/schema.js';
import type { ServedFrom } from '../store/usage-record.js';
import type {
  GroupKey,
  RecordsFilter,
  StatsFilter,
  StatsGroup,
  SumsRow,
  UsageStatsRepo,
} from '../store/usage-stats-repo.js';
import { type OverviewQuery, type UsageOverview, usageOverview } from './usage-overview.js';
import {
  addSums,
  ceilHour,
  floorHour,
  formatNanoUsd,
  type LatencyPercentiles,
  nanoToMicroUsd,
  percentiles,
  toTotals,
  type UsageTotals,
} from './usage-totals.js';

export type { StatsGroup } from '../store/usage-stats-repo.js';
export * from './usage-totals.js';

/** The fields that name a group; which are present depends on group_by. */
export interface GroupFields {
  hour?: string;
  day?: string;
  model?: string | null;
  token_id?: string;
  token_name?: string | null;
  project_id?: string;
  project_name?: string | null;
}

export type UsageGroup = GroupFields & UsageTotals & { latency_ms: LatencyPercentiles };

/** One request as the usage writer recorded it (GET /manage/usage/records/{id}). */
export interface UsageRecordView {
  id: string;
  token_id: string;
  token_name: string | null;
  project_id: string;
  project_name: string | null;
  method: string;
  path: string;
  model: string | null;
  status: number;
  stream: boolean;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  finish_reason: string | null;
  upstream_key_id: string | null;
  /** Times the request was sent again after a failed attempt; 0 when it was sent once. */
  retries: number;
  served_from: ServedFrom | null;
  /** The service tier the upstream reported; null when none. */
  service_tier: string | null;
  /** Units billed besides text tokens (images, seconds, characters, tool calls, audio and image tokens); null when none. */
  billed_units: Record<string, number | string> | null;
  /** The upstream's id of its answer (`x-request-id`; a realtime response's id); null when none came. */
  upstream_request_id: string | null;
  /** Exact decimal dollars; null when the request has no cost (no price for its model, or it used nothing). */
  cost_usd: string | null;
  cost_nano_usd: number | null;
  /** cost_nano_usd rounded to micro-dollars (the unit before nano-dollars), kept for API clients. */
  cost_micro_usd: number | null;
  usage_status: string;
  error: string | null;
  duration_ms: number;
  upstream_ms: number | null;
  ttfb_ms: number | null;
  bytes_in: number;
  bytes_out: number;
  created_at: string;
  /** The batch (`batch_…`) or background response (`resp_…`) the record accounts for; null for a request. */
  job_id: string | null;
}

/** A page of usage records, newest first. */
export interface UsageRecordsPage {
  data: UsageRecordView[];
  next_cursor: string | null;
}

export interface UsageReport {
  /** The window actually covered: `from` rounded down and `to` rounded up to whole hours. */
  from: string | null;
  to: string | null;
  group_by: StatsGroup | null;
  data: UsageGroup[];
  totals: UsageTotals;
  latency_ms: LatencyPercentiles;
}

export interface UsageQuery {
  projectId?: string | undefined;
  tokenId?: string | undefined;
  model?: string | undefined;
  /** Epoch ms; rounded down to the hour. */
  from?: number | undefined;
  /** Epoch ms; rounded up to the hour. */
  to?: number | undefined;
  groupBy?: StatsGroup | undefined;
  /** For `model`, `token` and `project`: only the first N groups (the costliest) in `data`. */
  limit?: number | undefined;
  /**
   * Only this batch's or background response's records, summed from the records themselves (the
   * rollups know no jobs): grouped by model or not, without latency percentiles.
   */
  jobId?: string | undefined;
}

const groupId = (g: GroupKey) => `${g.key ?? ''}|${g.project ?? ''}`;

/**
 * Usage statistics for the management API, computed from the hourly rollups only: sums per group
 * and overall, and latency percentiles from the merged histograms.
 */
export class UsageStats {
  /** `flush` writes what this instance's usage writer holds (a record asked for right after its request). */
  constructor(
    private readonly repo: UsageStatsRepo,
    private readonly flush: () => Promise<void> = async () => {},
  ) {}

  async report(q: UsageQuery): Promise<UsageReport> {
    const filter: StatsFilter = {
      projectId: q.projectId,
      tokenId: q.tokenId,
      model: q.model,
      from: q.from === undefined ? undefined : floorHour(q.from),
      to: q.to === undefined ? undefined : ceilHour(q.to),
    };
    const jobId = q.jobId;
    const [sumRows, latencyRows] =
      jobId === undefined
        ? await Promise.all([this.repo.sums(filter, q.groupBy), this.repo.latency(filter, q.groupBy)])
        : [await this.repo.jobSums({ ...filter, jobId }, q.groupBy === 'model' ? 'model' : undefined), []];

    const totals = zeroSums();
    const overallHist = new Map<number, number>();
    const histByGroup = new Map<string, Map<number, number>>();
    for (const l of latencyRows) {
      overallHist.set(l.le, (overallHist.get(l.le) ?? 0) + l.count);
      const id = groupId(l);
      let h = histByGroup.get(id);
      if (!h) {
        h = new Map();
        histByGroup.set(id, h);
      }
      h.set(l.le, (h.get(l.le) ?? 0) + l.count);
    }
    for (const r of sumRows) addSums(totals, r.sums);

    sortGroups(sumRows, q.groupBy);
    // Only ranked groups are cut (the top N by cost); the totals still cover every group.
    const shown = q.limit !== undefined && isRanked(q.groupBy) ? sumRows.slice(0, q.limit) : sumRows;
    const names = await this.names(q.groupBy, shown);
    const data: UsageGroup[] = shown.map((r) => ({
      ...this.groupFields(q.groupBy, r, names),
      ...toTotals(r.sums),
      latency_ms: percentiles(histByGroup.get(groupId(r))),
    }));

    return {
      from: toIso(filter.from ?? null),
      to: toIso(filter.to ?? null),
      group_by: q.groupBy ?? null,
      data,
      totals: toTotals(totals),
      latency_ms: percentiles(overallHist),
    };
  }

  /** The dashboard's series, totals, latency and top lists for a window, in one answer (usage-overview.ts). */
  overview(q: OverviewQuery): Promise<UsageOverview> {
    return usageOverview(this.repo, q);
  }

  /**
   * One request's usage record by its request id; undefined when it is not written. With `waitMs`,
   * a record not written yet is waited for that long: this instance's writer is flushed and the store
   * asked again every 100 ms (the request may also have gone through another instance).
   */
  async record(id: string, waitMs = 0): Promise<UsageRecordView | undefined> {
    const deadline = performance.now() + waitMs;
    let r = await this.repo.record(id);
    for (let first = true; !r && performance.now() < deadline; first = false) {
      // The request's accounting may land a moment after its last byte: flush each time, not once.
      if (!first) await new Promise((done) => setTimeout(done, 100));
      await this.flush();
      r = await this.repo.record(id);
    }
    if (!r) return undefined;
    const [tokens, projects] = await Promise.all([
      this.repo.tokenNames([r.token_id]),
      this.repo.projectNames([r.project_id]),
    ]);
    return recordView(r, tokens, projects);
  }

  /**
   * Usage records newest first, filtered by token, project or job, a page at a time (`limit`
   * records; `cursor` from the previous page's `next_cursor`).
   */
  async records(f: RecordsFilter, limit: number, cursor?: string): Promise<UsageRecordsPage> {
    const rows = await this.repo.records(f, limit, readCursor(cursor));
    const page = rows.slice(0, limit);
    const [tokens, projects] = await Promise.all([
      this.repo.tokenNames([...new Set(page.map((r) => r.token_id))]),
      this.repo.projectNames([...new Set(page.map((r) => r.project_id))]),
    ]);
    const last = page[page.length - 1];
    return {
      data: page.map((r) => recordView(r, tokens, projects)),
      next_cursor:
        rows.length > limit && last
          ? Buffer.from(`${Number(last.created_at)}:${last.id}`, 'utf8').toString('base64url')
          : null,
    };
  }

  /** Lifetime totals of one token or project (what GET /manage/tokens/{id} shows under `usage`). */
  async totalsOf(kind: 'token' | 'project', id: string): Promise<UsageTotals> {
    const rows = await this.repo.sums(kind === 'token' ? { tokenId: id } : { projectId: id });
    return toTotals(rows[0]?.sums ?? zeroSums());
  }

  private async names(
    group: StatsGroup | undefined,
    rows: Array<GroupKey>,
  ): Promise<{ tokens: Map<string, string | null>; projects: Map<string, string> }> {
    const tokens =
      group === 'token' ? await this.repo.tokenNames(rows.map((r) => String(r.key))) : new Map<string, null>();
    const projectIds =
      group === 'project'
        ? rows.map((r) => String(r.key))
        : group === 'token'
          ? [...new Set(rows.map((r) => String(r.project)))]
          : [];
    const projects = projectIds.length > 0 ? await this.repo.projectNames(projectIds) : new Map<string, string>();
    return { tokens, projects };
  }

  private groupFields(
    group: StatsGroup | undefined,
    r: GroupKey,
    names: { tokens: Map<string, string | null>; projects: Map<string, string> },
  ): GroupFields {
    switch (group) {
      case 'hour':
        return { hour: toIso(Number(r.key)) as string };
      case 'day':
        return { day: (toIso(Number(r.key)) as string).slice(0, 10) };
      case 'model':
        return { model: r.key === '' || r.key === null ? null : String(r.key) };
      case 'token': {
        const id = String(r.key);
        const project = String(r.project);
        return {
          token_id: id,
          token_name: names.tokens.get(id) ?? null,
          project_id: project,
          project_name: names.projects.get(project) ?? null,
        };
      }
      case 'project': {
        const id = String(r.key);
        return { project_id: id, project_name: names.projects.get(id) ?? null };
      }
      default:
        return {};
    }
  }
}

/** A records cursor (`created_at:id` of the last record shown, base64url) read; undefined when it is not one. */
export function recordsCursor(cursor: string): { createdAt: number; id: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const at = text.indexOf(':');
  const createdAt = Number(text.slice(0, at));
  if (at <= 0 || !Number.isSafeInteger(createdAt) || at === text.length - 1) return undefined;
  return { createdAt, id: text.slice(at + 1) };
}

function readCursor(cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (!cursor) return undefined;
  const c = recordsCursor(cursor);
  if (!c) throw errors.validation('cursor is not one this list gave', 'cursor');
  return c;
}

function recordView(r: UsageRow, tokens: Map<string, string | null>, projects: Map<string, string>): UsageRecordView {
  const cost = r.cost_nano_usd === null ? null : Number(r.cost_nano_usd);
  return {
    id: r.id,
    token_id: r.token_id,
    token_name: tokens.get(r.token_id) ?? null,
    project_id: r.project_id,
    project_name: projects.get(r.project_id) ?? null,
    method: r.method,
    path: r.path,
    model: r.model,
    status: Number(r.status),
    stream: Number(r.is_stream) === 1,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    total_tokens: r.total_tokens,
    cached_tokens: r.cached_tokens,
    reasoning_tokens: r.reasoning_tokens,
    finish_reason: r.finish_reason,
    upstream_key_id: r.upstream_key_id,
    retries: Number(r.retries ?? 0),
    served_from: (r.served_from as ServedFrom | null | undefined) ?? null,
    service_tier: r.service_tier ?? null,
    billed_units: parseUnits(r.billed_units),
    upstream_request_id: r.upstream_request_id ?? null,
    cost_usd: cost === null ? null : formatNanoUsd(cost),
    cost_nano_usd: cost,
    cost_micro_usd: cost === null ? null : nanoToMicroUsd(cost),
    usage_status: r.usage_status,
    error: r.error,
    duration_ms: r.duration_ms,
    upstream_ms: r.upstream_ms,
    ttfb_ms: r.ttfb_ms,
    bytes_in: Number(r.bytes_in),
    bytes_out: Number(r.bytes_out),
    created_at: toIso(Number(r.created_at)) as string,
    job_id: r.job_id ?? null,
  };
}

/** Groups other than time buckets are ranked: by cost, then requests. */
const isRanked = (group: StatsGroup | undefined) => group === 'model' || group === 'token' || group === 'project';

/** Time groups in time order; other groups by cost, then requests (largest first), then id. */
function sortGroups(rows: SumsRow[], group: StatsGroup | undefined): void {
  if (group === 'hour' || group === 'day') rows.sort((a, b) => Number(a.key) - Number(b.key));
  else {
    rows.sort(
      (a, b) =>
        b.sums.cost_nano_usd - a.sums.cost_nano_usd ||
        b.sums.requests - a.sums.requests ||
        String(a.key ?? '').localeCompare(String(b.key ?? '')),
    );
  }
}

export const TOTAL_COLUMNS: Array<keyof UsageTotals> = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_usd',
  'cost_micro_usd',
  'unpriced_requests',
  'estimated_requests',
  'avg_duration_ms',
  'bytes_in',
  'bytes_out',
  // After the other totals: the columns before it keep their places in the CSV.
  'cost_nano_usd',
];

const GROUP_COLUMNS: Record<StatsGroup | 'none', Array<keyof GroupFields>> = {
  hour: ['hour'],
  day: ['day'],
  model: ['model'],
  token: ['token_id', 'token_name', 'project_id', 'project_name'],
  project: ['project_id', 'project_name'],
  none: [],
};

/** The CSV header of a report grouped this way. */
export function csvColumns(group: StatsGroup | null): string[] {
  return [...GROUP_COLUMNS[group ?? 'none'], ...TOTAL_COLUMNS, 'latency_p50_ms', 'latency_p90_ms', 'latency_p99_ms'];
}

/**
 * The report as CSV (RFC 4180, CRLF line ends): a header row, then one row per group (without
 * group_by, one row for everything that matched). Text cells that a spreadsheet would run as a formula
 * (starting with = + - @) are prefixed with a single quote.
 */
export function usageCsv(report: UsageReport): string {
  const cols = csvColumns(report.group_by);
  const lines = [cols.join(',')];
  for (const r of report.data) {
    const rec = r as unknown as Record<string, unknown>;
    lines.push(
      cols
        .map((c) => {
          if (c.startsWith('latency_')) {
            return cell(r.latency_ms[c.slice('latency_'.length, -'_ms'.length) as keyof LatencyPercentiles]);
          }
          return cell(rec[c]);
        })
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A record's billed_units column as an object; null when none (or unreadable). */
function parseUnits(text: string | null | undefined): Record<string, number | string> | null {
  if (!text) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, number | string>) : null;
  } catch {
    return null;
  }
}
