import type { Summary } from '../src/bench/histogram.js';
import type { BenchReport, PairComparison, RunResult } from '../src/bench/result.js';

export const HARNESS_SCHEMA = 'llm-proxy-bench-harness/1';

export interface CellResult {
  scenario: string;
  title: string;
  concurrency: number;
  wall_s: number;
  /** CPU time each server process used during the cell (all targets' phases and warm-ups). */
  cpu_ms: { proxy: number; mock: number; nginx: number; load_generator: number; other: number | null };
  /** Server CPU per request it handled (measured + warm-up requests). */
  cpu_us_per_request: { proxy: number | null; nginx: number | null };
  report: BenchReport;
}

export interface TargetCheck {
  name: string;
  measured: number | null;
  unit: string;
  goal: string;
  met: boolean | null;
  note?: string;
}

export interface HarnessReport {
  schema: typeof HARNESS_SCHEMA;
  mode: 'quick' | 'full';
  command: string;
  note: string | null;
  started_at: string;
  finished_at: string;
  machine: {
    cpus: number;
    cpu_model: string;
    memory_gib: number;
    os: string;
    node: string;
    nginx: string | null;
    git: { commit: string; dirty: boolean } | null;
  };
  setup: {
    rounds: number;
    round_s: number;
    warmup_s: number;
    proxy_env: Record<string, string>;
    nginx: boolean;
  };
  proxy_rss_kib: { start_kib: number | null; after_warmup_kib: number | null; end_kib: number | null };
  proxy_requests_total: number;
  cells: CellResult[];
  headline: { targets: TargetCheck[] };
}

const run = (cell: CellResult | undefined, label: string): RunResult | undefined =>
  cell?.report.runs.find((r) => r.label === label);

const pairOf = (cell: CellResult | undefined, subject: string, baseline: string): PairComparison | undefined =>
  cell?.report.comparison?.pairs.find((p) => p.subject === subject && p.baseline === baseline);

const cellOf = (r: HarnessReport, scenario: string, c: number) =>
  r.cells.find((x) => x.scenario === scenario && x.concurrency === c);

function check(
  name: string,
  measured: number | null | undefined,
  unit: string,
  goal: string,
  ok: (v: number) => boolean,
  note?: string,
): TargetCheck {
  const v = measured ?? null;
  return {
    name,
    measured: v,
    unit,
    goal,
    met: v === null || Number.isNaN(v) ? null : ok(v),
    ...(note ? { note } : {}),
  };
}

/** The issue's targets, as far as this run measures them. */
export function headline(r: HarnessReport): { targets: TargetCheck[] } {
  const c1 = cellOf(r, 'chat', 1);
  const c32 = cellOf(r, 'chat', 32);
  const hold = cellOf(r, 'stream-hold', 1000);
  const stream32 = cellOf(r, 'chat-stream', 32);
  const targets: TargetCheck[] = [
    check(
      'added latency, chat, c=1, p50',
      pairOf(c1, 'proxy', 'direct')?.added_latency_ms?.p50,
      'ms',
      '< 0.15 ms',
      (v) => v < 0.15,
    ),
    check(
      'added latency, chat, c=1, p99',
      pairOf(c1, 'proxy', 'direct')?.added_latency_ms?.p99,
      'ms',
      '< 1 ms',
      (v) => v < 1,
    ),
    check(
      'throughput, chat, c=32, proxy / nginx',
      pairOf(c32, 'proxy', 'nginx')?.throughput_ratio,
      '×',
      '≥ 0.60',
      (v) => v >= 0.6,
      r.setup.nginx ? undefined : 'nginx not run',
    ),
  ];
  if (hold) {
    targets.push(
      check(
        'added chunk gap, 1000 streams, p99',
        pairOf(hold, 'proxy', 'direct')?.added_chunk_gap_ms?.p99,
        'ms',
        '< 1 ms',
        (v) => v < 1,
      ),
    );
  } else if (stream32) {
    targets.push(
      check(
        'added chunk gap, 32 streams, p99',
        pairOf(stream32, 'proxy', 'direct')?.added_chunk_gap_ms?.p99,
        'ms',
        '< 1 ms (goal is for 1000 streams; quick runs use 32)',
        (v) => v < 1,
      ),
    );
  }
  const end = r.proxy_rss_kib.end_kib;
  targets.push(
    check(
      `proxy RSS after ${r.proxy_requests_total.toLocaleString('en-US')} requests`,
      end === null ? null : Math.round(end / 102.4) / 10,
      'MiB',
      '< 150 MB (goal is after 1 million requests)',
      (v) => v < 150,
    ),
  );
  return { targets };
}

/** Average CPU of processes outside the benchmark during the cells, % of one core. */
export function otherLoad(r: HarnessReport): number | null {
  let ms = 0;
  let wall = 0;
  for (const c of r.cells) {
    if (c.cpu_ms.other === null) return null;
    ms += c.cpu_ms.other;
    wall += c.wall_s;
  }
  return wall > 0 ? ms / 10 / wall : null;
}

const f = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
const signed = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
const rps = (x: RunResult | undefined) => (x ? x.throughput.rps.toFixed(0) : '–');
const ratio = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v.toFixed(2)}×`);
const pp = (s: Summary | null | undefined) => (s ? `${f(s.p50)} / ${f(s.p99)}` : '–');

/** A markdown table; the first `textColumns` columns are left-aligned, the rest (numbers) right-aligned. */
function table(header: string[], rows: string[][], textColumns = 1): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < textColumns ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function renderMarkdown(r: HarnessReport): string {
  const m = r.machine;
  const nginx = r.setup.nginx;
  const out: string[] = [];
  out.push(`# llm-proxy benchmark: ${r.mode} run`);
  out.push('');
  out.push(
    `${r.started_at.slice(0, 19).replace('T', ' ')} UTC · ${m.cpus} × ${m.cpu_model} · ${m.memory_gib} GiB · ${m.os} · Node ${m.node}` +
      `${m.nginx ? ` · ${m.nginx}` : ''}${m.git ? ` · commit ${m.git.commit}${m.git.dirty ? ' (uncommitted changes)' : ''}` : ''}`,
  );
  out.push('');
  if (r.note) {
    out.push(r.note);
    out.push('');
  }
  out.push(`Reproduce: \`${r.command}\``);
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['target', 'measured', 'goal', 'met'],
      r.headline.targets.map((t) => [
        t.name,
        t.measured === null ? '–' : t.unit === '×' ? `${t.measured.toFixed(2)}×` : `${t.measured} ${t.unit}`,
        t.goal,
        t.met === null ? `– ${t.note ?? ''}`.trim() : t.met ? 'yes' : '**no**',
      ]),
      4,
    ),
  );
  out.push('');
  out.push('## Setup');
  out.push('');
  out.push(
    `Every cell runs the same closed-loop load against the mock upstream directly, through the proxy${nginx ? ' and through nginx' : ''}, ` +
      `in ${r.setup.rounds} alternating rounds of ${r.setup.round_s} s per target (order reversed every other round) after a ` +
      `${r.setup.warmup_s} s warm-up per target. The load generator (\`llm-proxy bench\`) runs in a process of its own, one ` +
      'keep-alive connection per concurrent request. The proxy runs the full pipeline: token check, request cap, usage ' +
      'capture into SQLite, one info-level JSON log line per request written to a file ' +
      `(${Object.entries(r.setup.proxy_env)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}).` +
      (nginx
        ? ' nginx: one worker, keep-alive to the upstream, `proxy_buffering off`, access log buffered to a file.'
        : ''),
  );
  out.push('');
  const other = otherLoad(r);
  if (other !== null && other >= 10) {
    out.push(
      `**Other processes used ${other.toFixed(0)}% of a core on average during the cells** (see the CPU table): ` +
        'they competed for the same cores, so these figures are disturbed. Run again on a quiet machine.',
    );
    out.push('');
  }

  const cells = r.cells.filter((c) => c.scenario !== 'stream-hold');
  out.push('## Throughput (requests/s)');
  out.push('');
  out.push(
    table(
      [
        'scenario',
        'c',
        'direct',
        'proxy',
        ...(nginx ? ['nginx'] : []),
        'proxy / direct',
        ...(nginx ? ['proxy / nginx', 'nginx / direct'] : []),
      ],
      cells.map((c) => [
        c.scenario,
        String(c.concurrency),
        rps(run(c, 'direct')),
        rps(run(c, 'proxy')),
        ...(nginx ? [rps(run(c, 'nginx'))] : []),
        ratio(pairOf(c, 'proxy', 'direct')?.throughput_ratio),
        ...(nginx
          ? [
              ratio(pairOf(c, 'proxy', 'nginx')?.throughput_ratio),
              ratio(pairOf(c, 'nginx', 'direct')?.throughput_ratio),
            ]
          : []),
      ]),
    ),
  );
  out.push('');
  out.push('## Added latency over a direct call (ms, p50 / p99 difference)');
  out.push('');
  out.push(
    table(
      ['scenario', 'c', 'proxy p50', 'proxy p99', ...(nginx ? ['nginx p50', 'nginx p99'] : [])],
      cells.map((c) => {
        const p = pairOf(c, 'proxy', 'direct')?.added_latency_ms;
        const n = pairOf(c, 'nginx', 'direct')?.added_latency_ms;
        return [
          c.scenario,
          String(c.concurrency),
          signed(p?.p50),
          signed(p?.p99),
          ...(nginx ? [signed(n?.p50), signed(n?.p99)] : []),
        ];
      }),
    ),
  );
  out.push('');
  out.push('## Latency (ms, p50 / p99)');
  out.push('');
  out.push(
    table(
      ['scenario', 'c', 'direct', 'proxy', ...(nginx ? ['nginx'] : [])],
      cells.map((c) => [
        c.scenario,
        String(c.concurrency),
        pp(run(c, 'direct')?.latency_ms),
        pp(run(c, 'proxy')?.latency_ms),
        ...(nginx ? [pp(run(c, 'nginx')?.latency_ms)] : []),
      ]),
    ),
  );
  out.push('');
  out.push("## The proxy's own time (Server-Timing `proxy;dur`, ms)");
  out.push('');
  out.push(
    table(
      ['scenario', 'c', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      r.cells.map((c) => {
        const s = run(c, 'proxy')?.proxy_overhead_ms;
        return [c.scenario, String(c.concurrency), f(s?.p50), f(s?.p90), f(s?.p99), f(s?.p99_9), f(s?.max)];
      }),
    ),
  );
  out.push('');
  const streams = r.cells.filter((c) => run(c, 'direct')?.chunk_gap_ms);
  if (streams.length > 0) {
    out.push('## Streams: gap between chunks (ms, p50 / p99)');
    out.push('');
    out.push(
      table(
        [
          'scenario',
          'c',
          'direct',
          'proxy',
          ...(nginx ? ['nginx'] : []),
          'proxy added p99',
          ...(nginx ? ['nginx added p99'] : []),
          'proxy ttfb added p50',
        ],
        streams.map((c) => [
          c.scenario,
          String(c.concurrency),
          pp(run(c, 'direct')?.chunk_gap_ms),
          pp(run(c, 'proxy')?.chunk_gap_ms),
          ...(nginx ? [pp(run(c, 'nginx')?.chunk_gap_ms)] : []),
          signed(pairOf(c, 'proxy', 'direct')?.added_chunk_gap_ms?.p99),
          ...(nginx ? [signed(pairOf(c, 'nginx', 'direct')?.added_chunk_gap_ms?.p99)] : []),
          signed(pairOf(c, 'proxy', 'direct')?.added_ttfb_ms?.p50),
        ]),
      ),
    );
    out.push('');
  }
  out.push('## CPU per request (µs) and who else used the cores');
  out.push('');
  out.push(
    table(
      [
        'scenario',
        'c',
        'proxy µs/req',
        ...(nginx ? ['nginx µs/req'] : []),
        'load generator, % of a core (proxy phases)',
        'other processes, % of a core',
      ],
      r.cells.map((c) => [
        c.scenario,
        String(c.concurrency),
        f(c.cpu_us_per_request.proxy, 0),
        ...(nginx ? [f(c.cpu_us_per_request.nginx, 0)] : []),
        f(run(c, 'proxy')?.client_cpu.pct_of_core, 0),
        c.cpu_ms.other === null ? '–' : f(c.cpu_ms.other / 10 / c.wall_s, 0),
      ]),
    ),
  );
  out.push('');
  const rss = r.proxy_rss_kib;
  const mib = (k: number | null) => (k === null ? '–' : `${(k / 1024).toFixed(1)} MiB`);
  out.push('## Proxy memory');
  out.push('');
  out.push(
    `RSS at start ${mib(rss.start_kib)}, after the warm-up ${mib(rss.after_warmup_kib)}, at the end ${mib(rss.end_kib)} ` +
      `(${r.proxy_requests_total.toLocaleString('en-US')} requests served).`,
  );
  out.push('');
  const errors = r.cells.flatMap((c) =>
    c.report.runs
      .filter((x) => x.requests.errors > 0)
      .map(
        (x) => `${c.scenario} c=${c.concurrency} ${x.label}: ${x.requests.errors} errors ${JSON.stringify(x.errors)}`,
      ),
  );
  out.push('## Errors');
  out.push('');
  out.push(errors.length ? errors.map((e) => `- ${e}`).join('\n') : 'None.');
  out.push('');
  return `${out.join('\n')}\n`;
}
