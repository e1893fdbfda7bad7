import { readFileSync } from 'node:fs';
import { renderTable } from './format.js';
import type { Summary } from './histogram.js';
import { type BenchReport, type PairComparison, REPORT_SCHEMA, type RunResult } from './result.js';
import { round3, round4 } from './units.js';

/** One line of `--compare A B`: B against A. */
export interface CompareRow {
  /** The run label (or `a-label → b-label` when two single runs are paired), or a comparison pair. */
  label: string;
  metric: string;
  stat: string;
  a: number | null;
  b: number | null;
  /** b − a. */
  delta: number | null;
  /** b / a; null when a is 0 or missing. */
  ratio: number | null;
}

export class CompareError extends Error {}

export function loadReport(file: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): BenchReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(read(file));
  } catch (err) {
    throw new CompareError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const r = parsed as Partial<BenchReport>;
  if (!r || typeof r !== 'object' || r.schema !== REPORT_SCHEMA || !Array.isArray(r.runs)) {
    throw new CompareError(`${file} is not an llm-proxy bench JSON report (schema ${REPORT_SCHEMA})`);
  }
  return r as BenchReport;
}

const RUN_METRICS: [string, string, (r: RunResult) => number | null | undefined][] = [
  ['throughput', 'rps', (r) => r.throughput.rps],
  ['throughput', 'ok_rps', (r) => r.throughput.ok_rps],
  ['requests', 'errors', (r) => r.requests.errors],
];

const DIST_METRICS: [keyof RunResult, readonly (keyof Summary)[]][] = [
  ['latency_ms', ['p50', 'p90', 'p99', 'p99_9', 'max', 'mean']],
  ['service_ms', ['p50', 'p99']],
  ['ttfb_ms', ['p50', 'p99']],
  ['chunk_gap_ms', ['p50', 'p99']],
  ['proxy_overhead_ms', ['p50', 'p90', 'p99', 'p99_9']],
];

function row(label: string, metric: string, stat: string, a: number | null | undefined, b: number | null | undefined) {
  const av = a ?? null;
  const bv = b ?? null;
  const bothNumbers = av !== null && bv !== null && Number.isFinite(av) && Number.isFinite(bv);
  return {
    label,
    metric,
    stat,
    a: av,
    b: bv,
    delta: bothNumbers ? round3((bv as number) - (av as number)) : null,
    ratio: bothNumbers && av !== 0 ? round4((bv as number) / (av as number)) : null,
  };
}

function runRows(label: string, a: RunResult, b: RunResult): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const [metric, stat, get] of RUN_METRICS) rows.push(row(label, metric, stat, get(a), get(b)));
  for (const [metric, stats] of DIST_METRICS) {
    const sa = a[metric] as Summary | null;
    const sb = b[metric] as Summary | null;
    if (!sa && !sb) continue;
    for (const stat of stats) rows.push(row(label, metric, stat, sa?.[stat], sb?.[stat]));
  }
  rows.push(row(label, 'client_cpu', 'pct_of_core', a.client_cpu.pct_of_core, b.client_cpu.pct_of_core));
  return rows;
}

function pairRows(a: PairComparison, b: PairComparison): CompareRow[] {
  const label = `${a.subject}-vs-${a.baseline}`;
  const rows: CompareRow[] = [];
  for (const stat of ['p50', 'p90', 'p99'] as const) {
    rows.push(row(label, 'added_latency_ms', stat, a.added_latency_ms?.[stat], b.added_latency_ms?.[stat]));
  }
  if (a.added_chunk_gap_ms || b.added_chunk_gap_ms) {
    for (const stat of ['p50', 'p99'] as const) {
      rows.push(row(label, 'added_chunk_gap_ms', stat, a.added_chunk_gap_ms?.[stat], b.added_chunk_gap_ms?.[stat]));
    }
  }
  rows.push(row(label, 'throughput_ratio', 'value', a.throughput_ratio, b.throughput_ratio));
  return rows;
}

/** Rows for every run label both reports share (or their only runs), then their shared comparison pairs. */
export function compareReports(a: BenchReport, b: BenchReport): CompareRow[] {
  const rows: CompareRow[] = [];
  const byLabel = new Map(b.runs.map((r) => [r.label, r]));
  let matched = 0;
  for (const ra of a.runs) {
    const rb = byLabel.get(ra.label);
    if (!rb) continue;
    matched++;
    rows.push(...runRows(ra.label, ra, rb));
  }
  if (matched === 0) {
    const [ra] = a.runs;
    const [rb] = b.runs;
    if (a.runs.length !== 1 || b.runs.length !== 1 || !ra || !rb) {
      throw new CompareError('the reports share no run label; compare single runs or runs with the same labels');
    }
    rows.push(...runRows(ra.label === rb.label ? ra.label : `${ra.label} → ${rb.label}`, ra, rb));
  }
  const pairsB = new Map((b.comparison?.pairs ?? []).map((p) => [`${p.subject}/${p.baseline}`, p]));
  for (const pa of a.comparison?.pairs ?? []) {
    const pb = pairsB.get(`${pa.subject}/${pa.baseline}`);
    if (pb) rows.push(...pairRows(pa, pb));
  }
  return rows;
}

const num = (v: number | null, digits = 3) => (v === null ? '-' : String(Number(v.toFixed(digits))));

export function renderCompare(rows: CompareRow[], nameA: string, nameB: string): string {
  let out = `A = ${nameA}\nB = ${nameB}\nratio = B / A (above 1: B is higher; for latency higher is worse, for throughput better)\n\n`;
  const labels = [...new Set(rows.map((r) => r.label))];
  for (const label of labels) {
    const table = rows
      .filter((r) => r.label === label)
      .map((r) => [
        `${r.metric} ${r.stat}`,
        num(r.a),
        num(r.b),
        r.delta === null ? '-' : `${r.delta >= 0 ? '+' : ''}${num(r.delta)}`,
        r.ratio === null ? '-' : `${r.ratio.toFixed(3)}×`,
        r.ratio === null ? '' : `${r.ratio >= 1 ? '+' : ''}${((r.ratio - 1) * 100).toFixed(1)}%`,
      ]);
    out += `${label}\n${renderTable(['', 'A', 'B', 'B − A', 'B / A', 'change'], table)}\n`;
  }
  return out;
}
