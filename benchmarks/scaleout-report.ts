import { int, median, ms, pairedValues, roundValues, signedMs, times } from './floor-report.js';
import type { RunRecord } from './scaleout-rounds.js';

/** Everything `npm run bench:scaleout` measured (also its JSON report). */
export interface ScaleoutRun {
  startedAt: string;
  host: {
    cpus: number;
    cpuModel: string;
    node: string;
    nginx: string | null;
    redis: string;
    postgres: string;
    /** Share of one core other processes used just before the run, %. */
    foreignBusyPercent: number | null;
  };
  settings: {
    /** `git describe --always --dirty` where the proxies' build lives. */
    build: string | null;
    quick: boolean;
    rounds: number;
    limiterRounds: number;
    seconds: number;
    connections: number;
  };
  throughput: {
    /**
     * `i1`, `i2`, `i3` (instances behind nginx), `w2` (WORKERS=2 behind nginx) when measured, and
     * `m1` (one instance on the in-memory limiter behind nginx).
     */
    targets: Array<{ key: string; title: string; instances: number; redis?: boolean }>;
    rounds: Array<Record<string, RunRecord>>;
  };
  workers: { measured: boolean; note: string | null };
  limiter: {
    /** `memory` and `redis`. */
    targets: Array<{ key: string; title: string }>;
    rounds: Array<Record<string, RunRecord>>;
    /** The same two with a pause after each response (`memory-paused`, `redis-paused`). */
    paused?: {
      pauseMs: number;
      targets: Array<{ key: string; title: string }>;
      rounds: Array<Record<string, RunRecord>>;
    };
    /** Sequential PINGs from the benchmark's process: one bare round trip. */
    redisRoundTrip: { p50Ms: number; p99Ms: number };
  };
  /** At the end of the run: the reservations in Redis (one per request, kept an hour) and Redis's memory, bytes. */
  redisMemory: { keys: number; bytesEach: number | null; usedMemory: number };
  /** Each proxy process's resident memory at the end of the run (`VmRSS`), KiB. */
  proxyRss?: Array<{ name: string; kib: number | null }>;
}

type Rounds = Array<Record<string, RunRecord>>;
type Pick = (r: RunRecord) => number | null;

const values = (rounds: Rounds, key: string, pick: Pick) => roundValues(rounds, key, pick);
const paired = (rounds: Rounds, a: string, b: string, pick: Pick, op: 'ratio' | 'diff') =>
  pairedValues(rounds, a, b, pick, op);

const signedInt = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(Math.round(n))}`;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const align = (n: number) => `|---|${'---:|'.repeat(n)}`;

/** Median, with the lowest and highest round beside it when there is more than one. */
function spread(xs: number[], format: (n: number) => string): string {
  if (xs.length === 0) return '–';
  if (xs.length === 1) return format(xs[0] as number);
  return `${format(median(xs))} (${format(Math.min(...xs))}–${format(Math.max(...xs))})`;
}

const rps: Pick = (r) => r.rps;
const p50: Pick = (r) => r.p50Ms;
const p99: Pick = (r) => r.p99Ms;
const proxyCpu: Pick = (r) => r.proxyCpuUs;
const nginxCpu: Pick = (r) => r.nginxCpuUs;
const redisCpu: Pick = (r) => r.redisCpuUs;
// Absent from reports written before it was measured.
const postgresCpu: Pick = (r) => r.postgresCpuUs ?? null;
const machineCpu: Pick = (r) => r.machineCpuUs;
const evalsha: Pick = (r) => (r.redisCalls ? (r.redisCalls.evalsha ?? 0) + (r.redisCalls.eval ?? 0) : null);
/** Every command Redis ran, those the scripts call (`TIME`, `HMGET`, `HSET`…) included. */
const allCalls: Pick = (r) => (r.redisCalls ? Object.values(r.redisCalls).reduce((s, v) => s + v, 0) : null);
const scriptUs: Pick = (r) => r.redisUsPerScript ?? null;
const calls = (rounds: Rounds, k: string) =>
  `${median(values(rounds, k, evalsha)).toFixed(2)} / ${median(values(rounds, k, allCalls)).toFixed(1)}`;

export function renderScaleout(run: ScaleoutRun): string {
  return `${[
    ...header(run),
    ...throughputSection(run),
    ...limiterSection(run),
    ...memorySection(run),
    ...roundsSection(run),
  ].join('\n')}\n`;
}

function header(run: ScaleoutRun): string[] {
  const h = run.host;
  const s = run.settings;
  const about = [
    run.startedAt,
    s.build ? `build ${s.build}` : '',
    `${h.cpus} × ${h.cpuModel}`,
    `Node ${h.node}`,
    `${h.nginx ?? 'nginx ?'}`,
    `Redis ${h.redis}`,
    `PostgreSQL ${h.postgres}`,
    `load: wrk -t1`,
    `${s.rounds} round${s.rounds === 1 ? '' : 's'} (limiter: ${s.limiterRounds}) of ${s.seconds} s per target, order reversed on odd rounds`,
    h.foreignBusyPercent === null ? '' : `other processes at the start: ${h.foreignBusyPercent.toFixed(0)}% of a core`,
    `reproduce: \`npm run bench:scaleout${s.quick ? ' -- --quick' : ` -- --rounds ${s.rounds} --duration ${s.seconds}s`}\``,
  ].filter((x) => x !== '');
  return [
    '# Scale-out: instances on PostgreSQL + Redis behind nginx',
    '',
    about.join(' · '),
    '',
    'Every instance is its own `llm-proxy serve` process with its own `DATA_DIR`, on one throwaway PostgreSQL database and one redis-server of the run (`REDIS_URL`: limits shared), with the mock upstream answering at once. Each group of instances sits behind its own nginx (one worker, round robin over an upstream block with `keepalive`). The token and its project carry limits that never refuse (requests per minute, a month budget each, and `max_concurrent` on the token), so every request is admitted and settled through the limiter. Each figure is the median over the rounds with the lowest and highest round in brackets; a ratio or a difference is the median of per-round pairs.',
    '',
  ];
}

function throughputSection(run: ScaleoutRun): string[] {
  const t = run.throughput;
  const base = t.targets[0]?.key ?? 'i1';
  const lines = [
    `## Throughput: non-streamed chat at c=${run.settings.connections}, through nginx`,
    '',
    row([
      '',
      'req/s',
      `÷ ${t.targets[0]?.title ?? 'base'}`,
      'p50 ms',
      'p99 ms',
      'proxies CPU µs/req',
      'nginx µs/req',
      'Redis µs/req',
      'PostgreSQL µs/req',
      'machine µs/req',
      'Redis scripts / commands per req',
    ]),
    align(10),
  ];
  for (const target of t.targets) {
    const k = target.key;
    lines.push(
      row([
        target.title,
        spread(values(t.rounds, k, rps), int),
        k === base ? '1' : spread(paired(t.rounds, k, base, rps, 'ratio'), times),
        spread(values(t.rounds, k, p50), ms),
        spread(values(t.rounds, k, p99), ms),
        spread(values(t.rounds, k, proxyCpu), int),
        spread(values(t.rounds, k, nginxCpu), int),
        spread(values(t.rounds, k, redisCpu), int),
        spread(values(t.rounds, k, postgresCpu), int),
        spread(values(t.rounds, k, machineCpu), int),
        calls(t.rounds, k),
      ]),
    );
  }
  if (t.targets.some((x) => x.key === 'm1')) {
    lines.push(
      row([
        'Redis − in-memory limiter, 1 instance (per round)',
        '',
        spread(paired(t.rounds, 'i1', 'm1', rps, 'ratio'), times),
        spread(paired(t.rounds, 'i1', 'm1', p50, 'diff'), signedMs),
        '',
        `${spread(paired(t.rounds, 'i1', 'm1', proxyCpu, 'diff'), signedInt)} (${spread(paired(t.rounds, 'i1', 'm1', proxyCpu, 'ratio'), times)})`,
        '',
        '',
        '',
        '',
        '',
      ]),
    );
  }
  lines.push('');
  if (run.workers.note) lines.push(`**WORKERS=2 not measured:** ${run.workers.note}.`, '');
  lines.push(
    `**Reading it.** This machine has ${run.host.cpus} cores for the load generator, nginx, every proxy process, the mock, PostgreSQL and Redis together: more instances cannot add cores here, so throughput stays flat (or falls, as the processes compete for the same cores). The portable figure is the CPU per request: proxies µs/req × the request rate is how many cores the proxies need, and Redis µs/req and PostgreSQL µs/req (its backends serving the run's database; its shared WAL writer and checkpointer are not counted) the same for those. The machine's figure also holds the load generator, the mock and whatever else ran on the machine meanwhile.`,
    '',
  );
  return lines;
}

/** The two limiters side by side, and Redis − in-memory paired per round. */
function limiterTable(
  rounds: Rounds,
  targets: Array<{ key: string; title: string }>,
  [memory, redis]: [string, string],
): string[] {
  const lines = [
    row([
      '',
      'p50 ms',
      'p99 ms',
      'proxy CPU µs/req',
      'Redis µs/req',
      'Redis scripts / commands per req',
      'Redis time per script, µs',
    ]),
    align(6),
  ];
  for (const target of targets) {
    const k = target.key;
    lines.push(
      row([
        target.title,
        spread(values(rounds, k, p50), ms),
        spread(values(rounds, k, p99), ms),
        spread(values(rounds, k, proxyCpu), int),
        spread(values(rounds, k, redisCpu), int),
        calls(rounds, k),
        spread(values(rounds, k, scriptUs), int),
      ]),
    );
  }
  lines.push(
    row([
      'Redis − in-memory (per round)',
      spread(paired(rounds, redis, memory, p50, 'diff'), signedMs),
      spread(paired(rounds, redis, memory, p99, 'diff'), signedMs),
      `${spread(paired(rounds, redis, memory, proxyCpu, 'diff'), signedInt)} (${spread(paired(rounds, redis, memory, proxyCpu, 'ratio'), times)})`,
      '',
      '',
      '',
    ]),
    '',
  );
  return lines;
}

function limiterSection(run: ScaleoutRun): string[] {
  const l = run.limiter;
  const added = paired(l.rounds, 'redis', 'memory', p50, 'diff');
  const lines = [
    '## The Redis limiter at c=1: one instance, directly (no nginx)',
    '',
    'Requests back to back (wrk sends the next as soon as a response is in):',
    '',
    ...limiterTable(l.rounds, l.targets, ['memory', 'redis']),
  ];
  if (l.paused) {
    lines.push(
      `With a ${l.paused.pauseMs} ms pause after each response, so that the previous request's settlement has run before the next admission is sent:`,
      '',
      ...limiterTable(l.paused.rounds, l.paused.targets, ['memory-paused', 'redis-paused']),
    );
  }
  lines.push(
    `A bare Redis round trip (sequential \`PING\` from the benchmark's process): p50 ${ms(l.redisRoundTrip.p50Ms)} ms, p99 ${ms(l.redisRoundTrip.p99Ms)} ms.`,
    '',
    `**Goal: under 0.1 ms added at p50.** Measured ${added.length ? signedMs(median(added)) : '–'} ms back to back: ${
      run.settings.quick
        ? 'a quick run (one round of 1 s) measures nothing'
        : added.length && median(added) < 0.1
          ? 'met'
          : 'not met'
    }. A request runs one script before it is forwarded (its admission, one round trip) and one after its response (the settlement, off the request's own latency path): about two scripts per request. Back to back, the next request's admission can reach Redis while the previous settlement still runs there, and waits for it on the same connection; the paused pass shows the admission alone. Commands per request counts every command Redis ran, those the scripts run inside Redis included (\`TIME\`, \`HMGET\`, \`HSET\`, …), and the instances' once-a-second pings.`,
    '',
  );
  return lines;
}

/** Redis's memory is mostly reservations: one per request, kept an hour after it settles. */
function memorySection(run: ScaleoutRun): string[] {
  const m = run.redisMemory;
  const mib = (b: number) =>
    b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GiB` : `${(b / 1_048_576).toFixed(1)} MiB`;
  const each = m.bytesEach;
  return [
    '## Redis memory',
    '',
    `At the end of the run Redis held ${int(m.keys)} reservations (one per request of the run, each kept an hour after it settles) in ${mib(m.usedMemory)} (\`used_memory\`); \`MEMORY USAGE\` of a reservation: ${each === null ? '–' : `${int(each)} bytes`} (median of a sample).${
      each === null ? '' : ` So a sustained 1,000 requests/s keeps about ${mib(each * 1000 * 3600)} of reservations.`
    }`,
    '',
    ...(run.proxyRss
      ? [
          `Resident memory of the proxies at the end: ${run.proxyRss
            .map((p) => `${p.name} ${p.kib === null ? '–' : mib(p.kib * 1024)}`)
            .join(', ')}.`,
          '',
        ]
      : []),
  ];
}

function roundsSection(run: ScaleoutRun): string[] {
  const lines = ['## Every round', ''];
  const table = (rounds: Rounds, targets: Array<{ key: string; title: string }>, label: string) => {
    const n = rounds.length;
    lines.push(row([label, ...Array.from({ length: n }, (_, i) => `round ${i + 1}`), 'median']), align(n + 1));
    const series = (title: string, xs: number[], format: (n: number) => string) => {
      if (xs.length > 0) lines.push(row([title, ...xs.map(format), format(median(xs))]));
    };
    for (const t of targets) {
      series(`${t.title}: req/s`, values(rounds, t.key, rps), int);
      series(`${t.title}: p50 ms`, values(rounds, t.key, p50), ms);
      series(`${t.title}: proxies CPU µs/req`, values(rounds, t.key, proxyCpu), int);
      series(`${t.title}: machine CPU µs/req`, values(rounds, t.key, machineCpu), int);
    }
    lines.push('');
  };
  table(run.throughput.rounds, run.throughput.targets, 'throughput');
  table(run.limiter.rounds, run.limiter.targets, 'limiter, c=1');
  if (run.limiter.paused) table(run.limiter.paused.rounds, run.limiter.paused.targets, 'limiter, c=1, paused');
  return lines;
}
