import os from 'node:os';
import { cellTitle } from './floor-cells.js';
import type { CellResult, RunRecord } from './floor-rounds.js';
import type { Target, TargetKey } from './floor-targets.js';

export interface FloorRun {
  generator: string;
  rounds: number;
  seconds: number;
  /** The CLI `before` was started from, when given. */
  before: string | null;
  /** `before` ran with tracing and OTLP metrics on (`--before-tracing`). */
  beforeTracing?: boolean;
  targets: Target[];
  cells: CellResult[];
}

type Pick = (r: RunRecord) => number | null;
const rate: Pick = (r) => r.rps;
const p50: Pick = (r) => r.p50Ms;
const cpu: Pick = (r) => r.cpuUsPerRequest;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A target's value in every round (empty when the target was not run). Shared by the benchmarks' reports. */
export function roundValues<K extends string, R>(
  rounds: ReadonlyArray<Partial<Record<K, R>>>,
  key: K,
  pick: (r: R) => number | null,
): number[] {
  return rounds.flatMap((r) => {
    const v = r[key] ? pick(r[key] as R) : null;
    return v === null ? [] : [v];
  });
}

/** a ÷ b (or a − b), round by round: both sides ran in the same round, seconds apart. */
export function pairedValues<K extends string, R>(
  rounds: ReadonlyArray<Partial<Record<K, R>>>,
  a: K,
  b: K,
  pick: (r: R) => number | null,
  op: 'ratio' | 'diff',
): number[] {
  return rounds.flatMap((r) => {
    const x = r[a] ? pick(r[a] as R) : null;
    const y = r[b] ? pick(r[b] as R) : null;
    if (x === null || y === null) return [];
    return [op === 'ratio' ? x / y : x - y];
  });
}

const perRound = (c: CellResult, key: TargetKey, pick: Pick) => roundValues(c.rounds, key, pick);
const paired = (c: CellResult, a: TargetKey, b: TargetKey, pick: Pick, op: 'ratio' | 'diff') =>
  pairedValues(c.rounds, a, b, pick, op);

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const ms = (n: number) => n.toFixed(3);
export const signedMs = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(3)}`;
export const times = (n: number) => `${n.toFixed(2)}×`;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const align = (n: number) => `|---|${'---:|'.repeat(n)}`;

export function renderFloor(run: FloorRun): string {
  return `${[...header(run), ...summaryTable(run), ...cpuTable(run), ...roundsTable(run)].join('\n')}\n`;
}

const has = (run: FloorRun, key: TargetKey) => run.targets.some((t) => t.key === key);
const titleOf = (run: FloorRun, key: TargetKey) => run.targets.find((t) => t.key === key)?.title ?? key;

function header(run: FloorRun): string[] {
  const about = [
    new Date().toISOString(),
    `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}`,
    `Node ${process.version}`,
    `load: ${run.generator}`,
    `${run.rounds} round${run.rounds === 1 ? '' : 's'} of ${run.seconds} s per target, order reversed on odd rounds`,
    `reproduce: \`npm run bench:floor -- --rounds ${run.rounds} --duration ${run.seconds}s${run.beforeTracing ? ' --before-tracing' : ''}\``,
  ];
  return [
    '# The floor: llm-proxy beside a bare Node.js proxy and nginx',
    '',
    about.join(' · '),
    '',
    "`direct` calls the mock upstream. The `bare Node proxy` is Node's HTTP server in front of an undici pool, swapping the key and forwarding bytes, and nothing else (`benchmarks/floor-proxy.ts`). `llm-proxy` runs its full pipeline: token check, limits, usage capture into SQLite, an info-level log line per request (`UPSTREAM_SHARE_PERCENT=100`: one token drives the load). nginx: one worker, keep-alive to the upstream." +
      (run.before && run.beforeTracing
        ? ` \`tracing on\` is llm-proxy started from \`${run.before}\` with OpenTelemetry on: a span pair per request and the GenAI metrics, exported over OTLP/HTTP protobuf (batches every 5 s, metrics every 60 s) to a sink that discards them.`
        : run.before
          ? ` \`before\` is llm-proxy started from \`${run.before}\`.`
          : ''),
    '',
    'Streams are 16 chunks 1 ms apart. Each figure is the median over the rounds; a ratio or an added latency is the median of per-round pairs (both sides measured in the same round, seconds apart).',
    '',
  ];
}

/** Throughput and latency per target, with llm-proxy against the bare proxy and each proxy's added p50. */
function summaryTable(run: FloorRun): string[] {
  const lines = [row(['', ...run.targets.map((t) => t.title)]), align(run.targets.length)];
  for (const c of run.cells) {
    const values = run.targets.map((t) => {
      if (c.cell.reports === 'p50') {
        const value = ms(median(perRound(c, t.key, p50)));
        return t.key === 'direct' ? value : `${value} (${signedMs(median(paired(c, t.key, 'direct', p50, 'diff')))})`;
      }
      const value = int(median(perRound(c, t.key, rate)));
      if (t.key !== 'proxy' || !has(run, 'bare')) return value;
      return `${value} (${times(median(paired(c, 'proxy', 'bare', rate, 'ratio')))} bare)`;
    });
    lines.push(row([cellTitle(c.cell), ...values]));
  }
  return lines;
}

const CPU_KEYS = ['proxy', 'bare', 'before'] as const;

/** CPU per request of the Node servers, and llm-proxy's paired ratios with every round's value. */
function cpuTable(run: FloorRun): string[] {
  const keys = CPU_KEYS.filter((k) => has(run, k));
  const against = (['bare', 'before'] as const).filter((k) => has(run, k));
  const lines = [
    '',
    '**CPU per request, µs** (user + system time of the server process, all threads, from `/proc/<pid>/stat` over each run, divided by the requests it completed):',
    '',
    row(['', ...keys.map((k) => titleOf(run, k)), ...against.map((k) => `llm-proxy / ${titleOf(run, k)} (per round)`)]),
    align(keys.length + against.length),
  ];
  for (const c of run.cells) {
    const values = keys.map((k) => int(median(perRound(c, k, cpu))));
    const ratios = against.map((k) => {
      const each = paired(c, 'proxy', k, cpu, 'ratio');
      return `${times(median(each))} (${each.map((n) => n.toFixed(2)).join(', ')})`;
    });
    lines.push(row([c.cell.label, ...values, ...ratios]));
  }
  return lines;
}

/** Every value of every round, so the noise behind a median is in view. */
function roundsTable(run: FloorRun): string[] {
  const rounds = Array.from({ length: run.rounds }, (_, i) => `round ${i + 1}`);
  const lines = ['', '**Every round**', '', row(['', ...rounds, 'median']), align(run.rounds + 1)];
  const series = (label: string, values: number[], format: (n: number) => string) => {
    if (values.length > 0) lines.push(row([label, ...values.map(format), format(median(values))]));
  };
  for (const c of run.cells) {
    const latency = c.cell.reports === 'p50';
    for (const t of run.targets)
      series(`${cellTitle(c.cell)}: ${t.title}`, perRound(c, t.key, latency ? p50 : rate), latency ? ms : int);
    for (const t of run.targets) {
      if (latency && t.key !== 'direct') {
        series(`${c.cell.label}: ${t.title} − direct, ms`, paired(c, t.key, 'direct', p50, 'diff'), signedMs);
      }
      if (!latency && (t.key === 'bare' || t.key === 'nginx' || t.key === 'before')) {
        series(`${c.cell.label}: llm-proxy / ${t.title}`, paired(c, 'proxy', t.key, rate, 'ratio'), times);
      }
    }
    for (const k of CPU_KEYS) series(`${c.cell.label}: ${titleOf(run, k)}, CPU µs/req`, perRound(c, k, cpu), int);
  }
  return lines;
}
