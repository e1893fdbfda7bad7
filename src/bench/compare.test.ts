import { describe, expect, it } from 'vitest';
import { pair } from './bench.js';
import { CompareError, compareReports, loadReport, renderCompare } from './compare.js';
import type { BenchReport, RunResult } from './result.js';

/** A hand-written run: only the numbers the comparison reads matter. */
function run(label: string, rps: number, p50: number, p99: number, overheadP50: number | null = null): RunResult {
  const dist = (a: number, b: number) => ({
    count: 100,
    min: a / 2,
    mean: a,
    stdev: 0,
    p50: a,
    p90: b,
    p99: b,
    p99_9: b,
    max: b,
  });
  return {
    label,
    target: `http://${label}`,
    duration_s: 1,
    rounds: 1,
    requests: { sent: rps, completed: rps, ok: rps, errors: 0 },
    throughput: { rps, ok_rps: rps, bytes_in_per_s: 0 },
    bytes: { sent: 0, received: 0 },
    status: { '200': rps },
    errors: { connect: 0, timeout: 0, reset: 0, http_4xx: 0, http_5xx: 0, other: 0 },
    error_messages: {},
    connections: { opened: 1, closed: 0, max_open: 1 },
    latency_ms: dist(p50, p99),
    service_ms: null,
    ttfb_ms: dist(p50, p99),
    chunk_gap_ms: null,
    proxy_overhead_ms: overheadP50 === null ? null : dist(overheadP50, overheadP50 * 4),
    upstream_ms: null,
    stream: { responses: 0, events: 0, chunks: 0 },
    kinds: { chat: rps },
    warmup: { requests: 0, duration_s: 0 },
    client_cpu: { ms: 100, pct_of_core: 10 },
  };
}

function report(runs: RunResult[]): BenchReport {
  const [base, ...rest] = runs;
  return {
    schema: 'llm-proxy-bench/1',
    tool: { name: 'llm-proxy bench', version: '0', node: 'v20' },
    started_at: '2025-01-01T00:00:00.000Z',
    finished_at: '2025-01-01T00:00:10.000Z',
    config: {
      mode: 'closed',
      concurrency: 1,
      rate: null,
      requests: null,
      duration_s: 1,
      timeout_s: 30,
      warmup_s: 0,
      rounds: 1,
      profile: null,
      latency_origin: 'send-time',
      kinds: [],
    },
    runs,
    comparison:
      base && rest.length
        ? {
            baseline: base.label,
            rounds: 1,
            order: 'alternating',
            pairs: rest.map((r) => pair(r, base)),
            round_detail: [],
          }
        : null,
  };
}

describe('--compare', () => {
  it('computes deltas and B/A ratios per shared label', () => {
    const a = report([run('direct', 1000, 2, 8), run('proxy', 800, 2.5, 10, 0.05)]);
    const b = report([run('direct', 1000, 2, 8), run('proxy', 900, 2.2, 9, 0.04)]);
    const rows = compareReports(a, b);
    const get = (label: string, metric: string, stat: string) =>
      rows.find((r) => r.label === label && r.metric === metric && r.stat === stat);
    expect(get('proxy', 'throughput', 'rps')).toMatchObject({ a: 800, b: 900, delta: 100, ratio: 1.125 });
    expect(get('proxy', 'latency_ms', 'p50')).toMatchObject({ a: 2.5, b: 2.2, delta: -0.3, ratio: 0.88 });
    expect(get('proxy', 'proxy_overhead_ms', 'p50')).toMatchObject({ a: 0.05, b: 0.04, ratio: 0.8 });
    expect(get('direct', 'throughput', 'rps')).toMatchObject({ delta: 0, ratio: 1 });
    // The runs' own comparisons: added latency 0.5 → 0.2 ms, throughput ratio 0.8 → 0.9.
    expect(get('proxy-vs-direct', 'added_latency_ms', 'p50')).toMatchObject({
      a: 0.5,
      b: 0.2,
      delta: -0.3,
      ratio: 0.4,
    });
    expect(get('proxy-vs-direct', 'throughput_ratio', 'value')).toMatchObject({ a: 0.8, b: 0.9, ratio: 1.125 });
    // A metric missing on one side has no ratio; a zero baseline neither.
    expect(get('direct', 'proxy_overhead_ms', 'p50')).toBeUndefined();
    expect(get('proxy', 'requests', 'errors')).toMatchObject({ a: 0, b: 0, delta: 0, ratio: null });

    const text = renderCompare(rows, 'a.json', 'b.json');
    expect(text).toContain('A = a.json');
    expect(text).toMatch(/throughput rps\s+800\s+900\s+\+100\s+1\.125×\s+\+12\.5%/);
    expect(text).toMatch(/latency_ms p50\s+2\.5\s+2\.2\s+-0\.3\s+0\.880×\s+-12\.0%/);
  });

  it('pairs two single runs with different labels', () => {
    const rows = compareReports(report([run('before', 100, 1, 2)]), report([run('after', 150, 0.5, 1)]));
    expect(rows[0]).toMatchObject({ label: 'before → after', metric: 'throughput', stat: 'rps', ratio: 1.5 });
    expect(() => compareReports(report([run('x', 1, 1, 1), run('y', 1, 1, 1)]), report([run('z', 1, 1, 1)]))).toThrow(
      CompareError,
    );
  });

  it('refuses files that are not bench reports', () => {
    expect(() => loadReport('x.json', () => '{"runs":[]}')).toThrow(/not an llm-proxy bench JSON report/);
    expect(() => loadReport('x.json', () => 'nope')).toThrow(/cannot read x.json/);
    expect(loadReport('x.json', () => JSON.stringify(report([run('a', 1, 1, 1)]))).runs).toHaveLength(1);
  });
});
