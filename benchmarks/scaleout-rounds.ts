import { cpuMs, machineBusyMs, treeCpuMs } from './harness-stack.js';
import { runWrk, type WrkRun } from './scaleout-wrk.js';

/** Something the rounds send load to: a balancer over instances, or one instance directly. */
export interface LoadTarget {
  key: string;
  title: string;
  url: string;
  script: string;
  /** The proxy processes whose CPU counts as the target's (every instance behind it, every worker). */
  proxyPids(): number[];
  /** nginx's master, whose workers' CPU is read with it; null when the load goes straight to a proxy. */
  nginxPid: number | null;
}

/** One target's run in one round: wrk's figures and the CPU each part used per completed request. */
export interface RunRecord extends WrkRun {
  /** User + system time of the proxy processes (all threads), µs per request. */
  proxyCpuUs: number;
  /** nginx (master and worker), µs per request; null without nginx. */
  nginxCpuUs: number | null;
  /** The run's redis-server, µs per request. */
  redisCpuUs: number;
  /** PostgreSQL's backends serving the run's database (usage writes, token reads), µs per request. */
  postgresCpuUs: number;
  /** The whole machine (every process, PostgreSQL and wrk included), µs per request. */
  machineCpuUs: number;
  /** Redis commands per request by name (INFO commandstats over the run), when read. */
  redisCalls?: Record<string, number>;
  /** Redis's own time per script call (`evalsha`), µs: the script's work inside Redis. */
  redisUsPerScript?: number | null;
}

export interface Meter {
  wrk: string;
  redisPid: number;
  /** PostgreSQL's processes serving the run's database (they come and go with the pools). */
  postgresPids(): number[];
  /** Resets Redis's command counts; `calls()` reads them since. */
  redisStats?: {
    /** Waits for the previous run's tail of Redis calls to end. */
    quiet(): Promise<void>;
    reset(): Promise<void>;
    calls(): Promise<{ calls: Record<string, number>; usec: Record<string, number> }>;
  };
}

const sum = (pids: number[]) => pids.reduce((s, p) => s + (cpuMs(p) ?? 0), 0);

/** One wrk run against `t`, with the CPU of every part read around it. */
export async function measure(m: Meter, t: LoadTarget, connections: number, seconds: number): Promise<RunRecord> {
  const pids = t.proxyPids();
  // A backend that exits during the run takes its CPU time with it: read the ones there at the end.
  await m.redisStats?.quiet();
  const pgBefore = new Map(m.postgresPids().map((p) => [p, cpuMs(p) ?? 0]));
  await m.redisStats?.reset();
  const before = {
    proxy: sum(pids),
    nginx: t.nginxPid === null ? null : treeCpuMs(t.nginxPid),
    redis: cpuMs(m.redisPid) ?? 0,
    machine: machineBusyMs() ?? 0,
  };
  const run = await runWrk(m.wrk, t.url, t.script, connections, seconds);
  const per = (ms: number) => (ms * 1000) / run.requests;
  const nginxAfter = t.nginxPid === null ? null : treeCpuMs(t.nginxPid);
  const record: RunRecord = {
    ...run,
    proxyCpuUs: per(sum(pids) - before.proxy),
    nginxCpuUs: nginxAfter === null || before.nginx === null ? null : per(nginxAfter - before.nginx),
    redisCpuUs: per((cpuMs(m.redisPid) ?? 0) - before.redis),
    postgresCpuUs: per(m.postgresPids().reduce((s, p) => s + (cpuMs(p) ?? 0) - (pgBefore.get(p) ?? 0), 0)),
    machineCpuUs: per((machineBusyMs() ?? 0) - before.machine),
  };
  if (m.redisStats) {
    const { calls, usec } = await m.redisStats.calls();
    record.redisCalls = Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / run.requests]));
    record.redisUsPerScript = calls.evalsha ? (usec.evalsha ?? 0) / calls.evalsha : null;
  }
  return record;
}

/**
 * A warm-up of every target, then `rounds` rounds in which each target runs once, in reverse order
 * on odd rounds, so that drift (other agents' load, heat, a growing heap) falls on both sides of a
 * pair and a ratio of two targets in the same round cancels most of it.
 */
export async function alternate(
  m: Meter,
  targets: LoadTarget[],
  opts: { connections: number; seconds: number; rounds: number; warmupSeconds: number },
  log: (msg: string) => void,
): Promise<Array<Record<string, RunRecord>>> {
  for (const t of targets) {
    log(`  warming up ${t.title} (${opts.warmupSeconds} s)…`);
    await runWrk(m.wrk, t.url, t.script, opts.connections, opts.warmupSeconds);
  }
  const rounds: Array<Record<string, RunRecord>> = [];
  for (let r = 0; r < opts.rounds; r++) {
    log(`  round ${r + 1} of ${opts.rounds}`);
    const round: Record<string, RunRecord> = {};
    for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
      round[t.key] = await measure(m, t, opts.connections, opts.seconds);
    }
    rounds.push(round);
  }
  return rounds;
}
