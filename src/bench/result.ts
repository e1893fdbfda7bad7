import type { Summary } from './histogram.js';

/** `schema` of every JSON report; bump when a field changes meaning or goes away. */
export const REPORT_SCHEMA = 'llm-proxy-bench/1';

export const ERROR_KINDS = ['connect', 'timeout', 'reset', 'http_4xx', 'http_5xx', 'other'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What one target measured (over all rounds in a comparison). Durations are milliseconds. */
export interface RunResult {
  label: string;
  /** Base URL of the target. */
  target: string;
  /** Wall time spent sending (sum over rounds), seconds. */
  duration_s: number;
  rounds: number;
  requests: { sent: number; completed: number; ok: number; errors: number };
  throughput: { rps: number; ok_rps: number; bytes_in_per_s: number };
  bytes: { sent: number; received: number };
  /** Responses by HTTP status. */
  status: Record<string, number>;
  /** Failed requests by kind: transport (connect, timeout, reset, other) and HTTP (4xx, 5xx). */
  errors: Record<ErrorKind, number>;
  /** Up to 10 distinct transport error messages with counts, for diagnosis. */
  error_messages: Record<string, number>;
  connections: { opened: number; closed: number; max_open: number };
  /** Request start (intended start in open loop) to the last body byte; every HTTP response counts. */
  latency_ms: Summary | null;
  /** Open loop only: actual send to the last body byte (no coordinated-omission correction). */
  service_ms: Summary | null;
  /** Request start to the first body byte (to the headers for an empty body). */
  ttfb_ms: Summary | null;
  /** Gaps between consecutive body reads of SSE responses. */
  chunk_gap_ms: Summary | null;
  /** `Server-Timing: proxy;dur=` as the target reported it. */
  proxy_overhead_ms: Summary | null;
  /** `Server-Timing: upstream;dur=` as the target reported it. */
  upstream_ms: Summary | null;
  stream: { responses: number; events: number; chunks: number };
  /** Requests sent per request kind. */
  kinds: Record<string, number>;
  /** Unmeasured requests sent first (they still reach the target: count them when dividing its CPU time). */
  warmup: { requests: number; duration_s: number };
  /** CPU time the load generator used while sending to this target, and as a share of one core. */
  client_cpu: { ms: number; pct_of_core: number };
}

export interface PairComparison {
  subject: string;
  baseline: string;
  /** subject − baseline, milliseconds. */
  added_latency_ms: Record<'p50' | 'p90' | 'p99' | 'p99_9' | 'mean', number> | null;
  added_ttfb_ms: Record<'p50' | 'p99', number> | null;
  added_chunk_gap_ms: Record<'p50' | 'p99' | 'mean', number> | null;
  /** subject rps / baseline rps. */
  throughput_ratio: number | null;
}

export interface RoundDetail {
  round: number;
  label: string;
  rps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Time to first byte, p99: a round's own, for ratios paired within a round. */
  ttfb_p99_ms: number | null;
  errors: number;
}

export interface Comparison {
  baseline: string;
  rounds: number;
  /** Each round runs every target once; odd rounds reverse the order, so linear drift cancels. */
  order: 'alternating';
  pairs: PairComparison[];
  round_detail: RoundDetail[];
}

export interface KindConfig {
  name: string;
  method: string;
  path: string;
  stream: boolean;
  weight: number;
}

export interface BenchConfig {
  mode: 'closed' | 'open';
  concurrency: number;
  /** Open loop: requests per second per target. */
  rate: number | null;
  /** Per target, over all rounds. */
  requests: number | null;
  duration_s: number | null;
  timeout_s: number;
  warmup_s: number;
  rounds: number;
  profile: string | null;
  /** How latency is corrected for coordinated omission. */
  latency_origin: 'send-time' | 'intended-send-time';
  kinds: KindConfig[];
}

export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  tool: { name: 'llm-proxy bench'; version: string; node: string };
  started_at: string;
  finished_at: string;
  config: BenchConfig;
  runs: RunResult[];
  comparison: Comparison | null;
}
