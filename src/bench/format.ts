import type { Summary } from './histogram.js';
import { type BenchReport, ERROR_KINDS, type PairComparison, type RunResult } from './result.js';
import { formatBytes, formatMs, formatSignedMs } from './units.js';

type Row = string[];

/** Left-aligned first column, right-aligned numbers. */
export function renderTable(header: Row, rows: Row[], indent = '  '): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return `${all
    .map(
      (r) =>
        indent +
        r
          .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
    )
    .join('\n')}\n`;
}

const DIST: [keyof Summary, string][] = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p99_9', 'p99.9'],
  ['max', 'max'],
  ['mean', 'mean'],
];

const METRICS: [keyof RunResult, string][] = [
  ['latency_ms', 'latency'],
  ['service_ms', 'service time (from actual send)'],
  ['ttfb_ms', 'time to first byte'],
  ['chunk_gap_ms', 'stream chunk gap'],
  ['proxy_overhead_ms', 'proxy overhead (Server-Timing proxy;dur)'],
  ['upstream_ms', 'upstream time (Server-Timing upstream;dur)'],
];

function distributionTables(runs: RunResult[]): string {
  let out = '';
  for (const [key, title] of METRICS) {
    const rows: Row[] = [];
    for (const run of runs) {
      const s = run[key] as Summary | null;
      if (s) rows.push([run.label, ...DIST.map(([k]) => formatMs(s[k])), String(s.count)]);
    }
    if (rows.length === 0) continue;
    out += `${title} (ms)\n${renderTable(['', ...DIST.map(([, h]) => h), 'count'], rows)}`;
  }
  return out;
}

function errorText(run: RunResult): string {
  const parts = ERROR_KINDS.filter((k) => run.errors[k] > 0).map((k) => `${k} ${run.errors[k]}`);
  return parts.length ? parts.join(', ') : 'none';
}

function statusText(run: RunResult): string {
  return (
    Object.entries(run.status)
      .map(([code, n]) => `${code}×${n}`)
      .join(' ') || '-'
  );
}

function totalsTable(runs: RunResult[]): string {
  const rows = runs.map((r) => [
    r.label,
    r.throughput.rps.toFixed(1),
    String(r.requests.completed),
    String(r.requests.errors),
    formatBytes(r.bytes.received),
    `${formatBytes(r.throughput.bytes_in_per_s)}/s`,
    String(r.connections.opened),
    `${r.client_cpu.pct_of_core.toFixed(0)}%`,
    `${r.duration_s.toFixed(2)}s`,
  ]);
  let out = `throughput\n${renderTable(['', 'req/s', 'done', 'errors', 'received', 'rate', 'conns', 'client cpu', 'time'], rows)}`;
  for (const r of runs) {
    out += `  ${r.label}: status ${statusText(r)}; errors: ${errorText(r)}`;
    if (r.stream.responses > 0) {
      out += `; streams ${r.stream.responses}, events ${r.stream.events}, chunks ${r.stream.chunks}`;
    }
    out += '\n';
    for (const [msg, n] of Object.entries(r.error_messages)) out += `    ${n}× ${msg}\n`;
  }
  return out;
}

export function pairLine(p: PairComparison): string {
  const parts: string[] = [];
  if (p.added_latency_ms) {
    const a = p.added_latency_ms;
    parts.push(`latency p50 ${formatSignedMs(a.p50)}, p90 ${formatSignedMs(a.p90)}, p99 ${formatSignedMs(a.p99)}`);
  }
  if (p.added_chunk_gap_ms) {
    parts.push(
      `chunk gap p50 ${formatSignedMs(p.added_chunk_gap_ms.p50)}, p99 ${formatSignedMs(p.added_chunk_gap_ms.p99)}`,
    );
  }
  if (p.throughput_ratio !== null) parts.push(`throughput ${p.throughput_ratio.toFixed(3)}×`);
  return `${p.subject} vs ${p.baseline}: ${parts.join('; ')}`;
}

/** The console report. */
export function renderReport(report: BenchReport): string {
  const c = report.config;
  const kinds = c.kinds.map((k) => `${k.method} ${k.path}${k.stream ? ' (stream)' : ''}`).join(', ');
  const load =
    c.mode === 'open'
      ? `open loop, ${c.rate} req/s, up to ${c.concurrency} connections`
      : `closed loop, ${c.concurrency} connection${c.concurrency === 1 ? '' : 's'}`;
  const amount = c.requests !== null ? `${c.requests} requests` : `${c.duration_s}s`;
  let out = `llm-proxy bench: ${kinds}\n  ${load}, ${amount}${report.comparison ? ` per target in ${c.rounds} alternating rounds` : ''}`;
  if (c.warmup_s > 0) out += `, ${c.warmup_s}s warm-up`;
  if (c.profile) out += `, profile ${c.profile}`;
  out += `\n  ${report.runs.map((r) => `${r.label} = ${r.target}`).join(', ')}\n\n`;
  out += distributionTables(report.runs);
  out += totalsTable(report.runs);
  if (report.comparison) {
    out += `\ncomparison (${report.comparison.rounds} rounds, alternating order)\n`;
    for (const p of report.comparison.pairs) out += `  ${pairLine(p)}\n`;
  }
  return out;
}

/** CSV field quoting (RFC 4180). */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = ['label', 'target', 'metric', 'stat', 'value'] as const;

/**
 * Long format: one row per label × metric × stat. Runs use their label; comparison rows use
 * `<subject>-vs-<baseline>` and an empty target.
 */
export function renderCsv(report: BenchReport): string {
  const rows: (string | number | null)[][] = [[...CSV_HEADER]];
  for (const r of report.runs) {
    const add = (metric: string, stat: string, value: number | null) =>
      rows.push([r.label, r.target, metric, stat, value]);
    add('duration_s', 'value', r.duration_s);
    for (const [k, v] of Object.entries(r.requests)) add('requests', k, v);
    for (const [k, v] of Object.entries(r.throughput)) add('throughput', k, v);
    for (const [k, v] of Object.entries(r.bytes)) add('bytes', k, v);
    for (const [k, v] of Object.entries(r.status)) add('status', k, v);
    for (const [k, v] of Object.entries(r.errors)) add('errors', k, v);
    for (const [k, v] of Object.entries(r.connections)) add('connections', k, v);
    for (const [key] of METRICS) {
      const s = r[key] as Summary | null;
      if (s) for (const [k, v] of Object.entries(s)) add(key, k, v);
    }
    for (const [k, v] of Object.entries(r.stream)) add('stream', k, v);
    add('client_cpu', 'ms', r.client_cpu.ms);
    add('client_cpu', 'pct_of_core', r.client_cpu.pct_of_core);
  }
  for (const p of report.comparison?.pairs ?? []) {
    const label = `${p.subject}-vs-${p.baseline}`;
    const add = (metric: string, stat: string, value: number | null) => rows.push([label, '', metric, stat, value]);
    for (const [k, v] of Object.entries(p.added_latency_ms ?? {})) add('added_latency_ms', k, v);
    for (const [k, v] of Object.entries(p.added_ttfb_ms ?? {})) add('added_ttfb_ms', k, v);
    for (const [k, v] of Object.entries(p.added_chunk_gap_ms ?? {})) add('added_chunk_gap_ms', k, v);
    add('throughput_ratio', 'value', p.throughput_ratio);
  }
  return `${rows.map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}
