import { HOUR, ROLLUP_SUM_COLUMNS, type RollupSums } from '../store/schema.js';
import { percentileOf } from './latency-buckets.js';

/** Sums of the rollups as the API shows them, shared by the usage report and the overview. */

/** Usage totals as the API shows them. */
export interface UsageTotals {
  requests: number;
  /** Requests answered with status ≥ 400 or cut by an error. */
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** Exact decimal dollars (nine decimals), formatted from the integer nano-dollars. */
  cost_usd: string;
  cost_nano_usd: number;
  /** The cost rounded to integer micro-dollars (the unit before nano-dollars), kept for API clients. */
  cost_micro_usd: number;
  /** Requests that used a model without a price: cost unknown, not in cost_usd (batch.ts says which). */
  unpriced_requests: number;
  /** Requests whose usage the proxy estimated (a stream cut short). */
  estimated_requests: number;
  avg_duration_ms: number | null;
  bytes_in: number;
  bytes_out: number;
}

/** Latency percentiles in ms: the upper bound of the histogram bucket each falls in. */
export interface LatencyPercentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** Nano-dollars as exact decimal dollars with nine decimals, by integer arithmetic (no float rounding). */
export function formatNanoUsd(nano: number): string {
  const v = BigInt(Math.round(nano));
  const neg = v < 0n;
  const abs = neg ? -v : v;
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** Nano-dollars rounded half up to integer micro-dollars (the API's fields from before nano-dollars). */
export const nanoToMicroUsd = (nano: number): number => Math.round(nano / 1000);

export const floorHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;
export const ceilHour = (ms: number) => Math.ceil(ms / HOUR) * HOUR;

export function addSums(into: RollupSums, s: RollupSums): void {
  for (const c of ROLLUP_SUM_COLUMNS) into[c] += s[c];
}

export function toTotals(s: RollupSums): UsageTotals {
  return {
    requests: s.requests,
    errors: s.errors,
    prompt_tokens: s.prompt_tokens,
    completion_tokens: s.completion_tokens,
    total_tokens: s.total_tokens,
    cached_tokens: s.cached_tokens,
    reasoning_tokens: s.reasoning_tokens,
    cost_usd: formatNanoUsd(s.cost_nano_usd),
    cost_nano_usd: s.cost_nano_usd,
    cost_micro_usd: nanoToMicroUsd(s.cost_nano_usd),
    unpriced_requests: s.unpriced_requests,
    estimated_requests: s.estimated_requests,
    avg_duration_ms: s.requests === 0 ? null : Math.round((s.duration_ms_sum / s.requests) * 100) / 100,
    bytes_in: s.bytes_in,
    bytes_out: s.bytes_out,
  };
}

export function percentiles(hist: Map<number, number> | undefined): LatencyPercentiles {
  const h = hist ?? new Map<number, number>();
  return { p50: percentileOf(h, 50), p90: percentileOf(h, 90), p99: percentileOf(h, 99) };
}
