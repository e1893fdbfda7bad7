import type { Pool } from 'undici';
import { VERSION } from '../version.js';
import { createPool, type LoadPlan, LoadRun } from './load.js';
import { buildKind, mixSchedule, type RequestKind, type RequestSpec } from './request-kind.js';
import {
  type BenchConfig,
  type BenchReport,
  type Comparison,
  type PairComparison,
  REPORT_SCHEMA,
  type RoundDetail,
  type RunResult,
} from './result.js';
import { RunStats } from './stats.js';
import { round3, round4 } from './units.js';

export interface TargetSpec {
  /** `direct`, `proxy`, `nginx`…; a single run uses `run` unless told otherwise. */
  label: string;
  /** Base URL; endpoint paths are joined to its path. */
  url: string;
  /** Sent as `Authorization: Bearer …`. */
  token?: string | undefined;
}

export interface BenchSpec {
  /**
   * One target: a plain run. Two or more: a comparison in rounds; the first is the baseline, the
   * second the subject (the proxy), any others references (nginx) compared with both.
   */
  targets: TargetSpec[];
  requests: RequestSpec[];
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  plan: LoadPlan;
  timeoutMs: number;
  /** Comparison rounds (ignored for one target). */
  rounds: number;
  /** Unmeasured closed-loop load per target before measuring. */
  warmupMs: number;
  profile?: string | null;
}

export interface ProgressSink {
  /** Called about ten times a second with overall progress 0..1 and what runs now. */
  update(fraction: number, phase: string, stats: { completed: number; errors: number; rps: number }): void;
}

export interface BenchControl {
  progress?: ProgressSink;
  /** Aborting stops sending; what was measured is still reported. */
  signal?: AbortSignal;
}

interface TargetState {
  spec: TargetSpec;
  kinds: RequestKind[];
  pool: Pool;
  total: RunStats;
}

export class BenchSpecError extends Error {}

/** Validates the spec and builds every target's request kinds (throws BenchSpecError / RequestSpecError). */
function prepare(spec: BenchSpec): { targets: TargetState[]; schedule: Uint16Array } {
  if (spec.targets.length === 0) throw new BenchSpecError('no target');
  if (spec.requests.length === 0) throw new BenchSpecError('no request kind');
  const { plan } = spec;
  if (!(Number.isInteger(plan.concurrency) && plan.concurrency > 0)) {
    throw new BenchSpecError('concurrency must be a positive integer');
  }
  if (plan.requests === undefined && plan.durationMs === undefined) {
    throw new BenchSpecError('give a request count or a duration');
  }
  if (plan.rate !== undefined && !(plan.rate > 0)) throw new BenchSpecError('rate must be above 0');
  const labels = new Set<string>();
  const targets = spec.targets.map((t): TargetState => {
    if (labels.has(t.label)) throw new BenchSpecError(`two targets are labelled ${t.label}`);
    labels.add(t.label);
    let url: URL;
    try {
      url = new URL(t.url);
    } catch {
      throw new BenchSpecError(`not a URL: ${t.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BenchSpecError(`not an http(s) URL: ${t.url}`);
    const kinds = spec.requests.map((r) =>
      buildKind(r, { basePath: url.pathname, token: t.token, headers: spec.headers ?? {} }),
    );
    const total = new RunStats(kinds.map((k) => k.name));
    const pool = createPool(url.origin, { concurrency: plan.concurrency, timeoutMs: spec.timeoutMs }, () => total);
    return { spec: t, kinds, pool, total };
  });
  return { targets, schedule: mixSchedule(targets[0]?.kinds.map((k) => k.weight) ?? [1]) };
}

/** Per round, splits a request count or duration across rounds. */
function roundPlan(plan: LoadPlan, rounds: number): LoadPlan {
  return {
    ...plan,
    requests: plan.requests === undefined ? undefined : Math.max(1, Math.ceil(plan.requests / rounds)),
    durationMs: plan.durationMs === undefined ? undefined : plan.durationMs / rounds,
  };
}

export async function runBench(spec: BenchSpec, control: BenchControl = {}): Promise<BenchReport> {
  const startedAt = new Date();
  const { targets, schedule } = prepare(spec);
  const comparing = targets.length > 1;
  const rounds = comparing ? Math.max(1, spec.rounds) : 1;
  const plan = roundPlan(spec.plan, rounds);
  const warmup = spec.warmupMs > 0;
  const phases = rounds * targets.length + (warmup ? targets.length : 0);
  let phase = 0;
  let current: LoadRun | undefined;
  let phaseName = '';
  const aborted = () => control.signal?.aborted === true;
  const onAbort = () => current?.stop();
  control.signal?.addEventListener('abort', onAbort);
  const ticker = control.progress
    ? setInterval(() => {
        const s = current?.stats;
        control.progress?.update(Math.min(1, (phase + (current?.progress() ?? 0)) / phases), phaseName, {
          completed: s?.completed ?? 0,
          errors: s?.failed ?? 0,
          rps: current?.rate() ?? 0,
        });
      }, 100)
    : undefined;

  const details: RoundDetail[] = [];
  try {
    if (warmup) {
      for (const t of targets) {
        if (aborted()) break;
        phaseName = `${t.spec.label} warm-up`;
        const stats = new RunStats(t.kinds.map((k) => k.name));
        current = new LoadRun(
          t.pool,
          t.kinds,
          schedule,
          { concurrency: spec.plan.concurrency, durationMs: spec.warmupMs },
          stats,
        );
        await current.run();
        t.total.warmupRequests += stats.sent;
        t.total.warmupMs += stats.elapsedMs;
        phase++;
      }
    }
    for (let r = 0; r < rounds && !aborted(); r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        if (aborted()) break;
        phaseName = comparing ? `round ${r + 1}/${rounds}: ${t.spec.label}` : t.spec.label;
        const stats = new RunStats(t.kinds.map((k) => k.name));
        current = new LoadRun(t.pool, t.kinds, schedule, plan, stats);
        await current.run();
        t.total.merge(stats);
        const summary = stats.toResult(t.spec.label, t.spec.url);
        details.push({
          round: r + 1,
          label: t.spec.label,
          rps: summary.throughput.rps,
          p50_ms: summary.latency_ms?.p50 ?? null,
          p99_ms: summary.latency_ms?.p99 ?? null,
          ttfb_p99_ms: summary.ttfb_ms?.p99 ?? null,
          errors: summary.requests.errors,
        });
        phase++;
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    control.signal?.removeEventListener('abort', onAbort);
    await Promise.all(targets.map((t) => t.pool.close().catch(() => t.pool.destroy())));
  }

  const runs = targets.map((t) => t.total.toResult(t.spec.label, t.spec.url));
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'llm-proxy bench', version: VERSION, node: process.version },
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    config: configOf(spec, targets[0]?.kinds ?? [], rounds),
    runs,
    comparison: comparing ? compareRuns(runs, rounds, details) : null,
  };
}

function configOf(spec: BenchSpec, kinds: RequestKind[], rounds: number): BenchConfig {
  const { plan } = spec;
  return {
    mode: plan.rate === undefined ? 'closed' : 'open',
    concurrency: plan.concurrency,
    rate: plan.rate ?? null,
    requests: plan.requests ?? null,
    duration_s: plan.durationMs === undefined ? null : round3(plan.durationMs / 1000),
    timeout_s: round3(spec.timeoutMs / 1000),
    warmup_s: round3(spec.warmupMs / 1000),
    rounds,
    profile: spec.profile ?? null,
    latency_origin: plan.rate === undefined ? 'send-time' : 'intended-send-time',
    kinds: kinds.map((k) => ({ name: k.name, method: k.method, path: k.path, stream: k.stream, weight: k.weight })),
  };
}

/** Pairs: every other target against the first; the second (the subject) against each reference. */
export function compareRuns(runs: RunResult[], rounds: number, details: RoundDetail[] = []): Comparison {
  const [baseline, subject, ...references] = runs;
  const pairs: PairComparison[] = [];
  if (baseline && subject) {
    pairs.push(pair(subject, baseline));
    for (const ref of references) pairs.push(pair(ref, baseline));
    for (const ref of references) pairs.push(pair(subject, ref));
  }
  return { baseline: baseline?.label ?? '', rounds, order: 'alternating', pairs, round_detail: details };
}

export function pair(subject: RunResult, baseline: RunResult): PairComparison {
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? Number.NaN : round3(a - b);
  const s = subject.latency_ms;
  const b = baseline.latency_ms;
  const st = subject.ttfb_ms;
  const bt = baseline.ttfb_ms;
  const sg = subject.chunk_gap_ms;
  const bg = baseline.chunk_gap_ms;
  return {
    subject: subject.label,
    baseline: baseline.label,
    added_latency_ms:
      s && b
        ? {
            p50: diff(s.p50, b.p50),
            p90: diff(s.p90, b.p90),
            p99: diff(s.p99, b.p99),
            p99_9: diff(s.p99_9, b.p99_9),
            mean: diff(s.mean, b.mean),
          }
        : null,
    added_ttfb_ms: st && bt ? { p50: diff(st.p50, bt.p50), p99: diff(st.p99, bt.p99) } : null,
    added_chunk_gap_ms:
      sg && bg ? { p50: diff(sg.p50, bg.p50), p99: diff(sg.p99, bg.p99), mean: diff(sg.mean, bg.mean) } : null,
    throughput_ratio: baseline.throughput.rps > 0 ? round4(subject.throughput.rps / baseline.throughput.rps) : null,
  };
}
