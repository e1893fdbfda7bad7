#!/usr/bin/env node
/**
 * `npm run bench:scaleout`: llm-proxy scaled out on PostgreSQL + Redis. On a throwaway PostgreSQL
 * database and a redis-server of its own it starts three instances (separate processes and
 * DATA_DIRs, the same DATABASE_URL and REDIS_URL) and one `WORKERS=2` server, each group behind
 * its own nginx (round robin, keep-alive upstream), and measures in alternating wrk rounds:
 *
 * - throughput at c=32 through 1, 2 and 3 instances and through WORKERS=2, with the CPU per request
 *   of the proxies, nginx, Redis and the whole machine;
 * - the Redis limiter's cost at c=1: one instance on Redis against one on the in-memory limiter
 *   (same database, a token and project with limits), p50/p99 and CPU per request, and Redis's
 *   commands per request.
 *
 * Writes bench/results/scaleout.{md,json} (or `--out`).
 *
 *   node dist-bench/benchmarks/scaleout.js [--quick] [--rounds 6] [--duration 5s] [--connections 32]
 *                                          [--wait-quiet 5m] [--postgres URL] [--cli dist/cli/main.js] [--out dir]
 *
 * `--cli` runs the proxies from another build (e.g. a worktree of a commit), this one by default.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/bench/units.js';
import {
  type Child,
  CLI,
  log,
  machineBusyMs,
  NGINX_BIN,
  nginxVersion,
  ROOT,
  rssKiB,
  startMockChild,
  UPSTREAM_KEY,
  waitForHttp,
  writeReport,
} from './harness-stack.js';
import { renderScaleout, type ScaleoutRun } from './scaleout-report.js';
import { alternate, type LoadTarget, type Meter } from './scaleout-rounds.js';
import { backendPids, POSTGRES_ADMIN_URL, RedisProbe, startRedis, throwawayDatabase } from './scaleout-services.js';
import {
  type Instance,
  limitedToken,
  type SharedSettings,
  sharedSecrets,
  startBalancer,
  startInstance,
} from './scaleout-stack.js';
import { chatScript } from './scaleout-wrk.js';
import { findWrk } from './wrk.js';

export interface Settings {
  quick: boolean;
  rounds: number;
  /** Per target per round; whole seconds, which is what wrk takes. */
  seconds: number;
  warmupSeconds: number;
  connections: number;
  limiterRounds: number;
  waitQuietMs: number;
  postgres: string;
  /** The proxies' entry point (`dist/cli/main.js` of a build). */
  cli: string;
  out: string;
}

/** The pause after each response in the limiter's second pass, ms. */
const PAUSE_MS = 1;

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '32' },
      'wait-quiet': { type: 'string' },
      postgres: { type: 'string', default: POSTGRES_ADMIN_URL },
      cli: { type: 'string', default: CLI },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    },
  });
  const quick = values.quick === true;
  // Full: 4 targets × 6 rounds × 5 s, and 2 × 8 × 5 s at c=1, plus starts and warm-ups: about 4 minutes.
  const rounds = Number(values.rounds ?? (quick ? 1 : 6));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: not a positive integer: ${values.rounds}`);
  const seconds = parseDuration(String(values.duration ?? (quick ? '1s' : '5s'))) / 1000;
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new Error(`--duration: whole seconds, e.g. 5s: ${values.duration}`);
  const connections = Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1 || connections > 1000) {
    throw new Error(`--connections: an integer from 1 to 1000: ${values.connections}`);
  }
  return {
    quick,
    rounds,
    seconds,
    warmupSeconds: quick ? 1 : 5,
    connections,
    limiterRounds: quick ? 1 : Math.max(rounds, 8),
    waitQuietMs: values['wait-quiet'] === undefined ? 0 : parseDuration(values['wait-quiet']),
    postgres: String(values.postgres),
    cli: path.resolve(String(values.cli)),
    out: path.resolve(String(values.out)),
  };
}

/** The commit the proxies' build comes from (`-dirty` with uncommitted changes), or null outside git. */
function buildOf(cli: string): string | null {
  const res = spawnSync('git', ['-C', path.dirname(cli), 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : null;
}

/** Share of one core the machine is busy over `ms` (before the run starts anything: all foreign). */
async function busyShare(ms: number): Promise<number | null> {
  const a = machineBusyMs();
  await sleep(ms);
  const b = machineBusyMs();
  return a === null || b === null ? null : ((b - a) / ms) * 100;
}

/** Waits up to `maxMs` for other processes to leave the cores alone (under 25% of one); returns what it saw. */
async function waitForQuiet(maxMs: number): Promise<number | null> {
  const until = Date.now() + maxMs;
  for (;;) {
    const busy = await busyShare(2000);
    if (busy === null || busy < 25) return busy;
    if (Date.now() > until) {
      log(`the machine is still busy (${busy.toFixed(0)}% of a core); measuring anyway`);
      return busy;
    }
    log(`other processes use ${busy.toFixed(0)}% of a core; waiting for a quiet machine…`);
    await sleep(5000);
  }
}

async function main(): Promise<void> {
  const s = settings();
  if (!existsSync(s.cli)) throw new Error(`${s.cli} is missing: run \`npm run build\` first`);
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk is not on PATH (apt-get install wrk)');
  if (!existsSync(NGINX_BIN)) throw new Error(`no nginx at ${NGINX_BIN} (apt-get install nginx-light)`);
  const foreignBusy = s.waitQuietMs > 0 ? await waitForQuiet(s.waitQuietMs) : await busyShare(1000);

  const startedAt = new Date().toISOString();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-scaleout-'));
  const children: Child[] = [];
  const db = await throwawayDatabase(s.postgres);
  let probe: RedisProbe | undefined;
  try {
    const redis = await startRedis(dir);
    children.push(redis.child);
    probe = await RedisProbe.open(redis.url);
    const mock = await startMockChild(s.cli, UPSTREAM_KEY);
    children.push(mock.child);
    const shared: SharedSettings = { databaseUrl: db.url, redisUrl: redis.url, ...sharedSecrets() };

    // One at a time: the first migrates the empty database, the others find it migrated.
    const instances: Instance[] = [];
    for (const name of ['instance-1', 'instance-2', 'instance-3']) {
      log(`starting ${name}…`);
      const i = await startInstance(s.cli, dir, name, mock.url, shared);
      children.push(i.child);
      instances.push(i);
    }
    log('starting a WORKERS=2 server…');
    const workers = await startInstance(s.cli, dir, 'workers-2', mock.url, shared, { workers: 2 });
    children.push(workers.child);
    // The setting's effect, not its name, tells whether this build has it: a primary forks its workers.
    const workerCount = workers.pids().length - 1;
    const workersNote =
      workerCount >= 2
        ? null
        : `this build has no WORKERS=N: started with WORKERS=2 it ran ${workerCount === 0 ? 'one process' : `${workerCount} worker`}, so the row is left out`;
    if (workersNote) {
      log(workersNote);
      await workers.child.stop();
    }
    log('starting the in-memory limiter instance (same database, no REDIS_URL)…');
    const memory = await startInstance(s.cli, dir, 'memory-limiter', mock.url, shared, { redis: false });
    children.push(memory.child);

    const groups: Array<{ key: string; title: string; behind: Instance[]; workers: number }> = [
      { key: 'i1', title: '1 instance', behind: instances.slice(0, 1), workers: 1 },
      { key: 'i2', title: '2 instances', behind: instances.slice(0, 2), workers: 1 },
      { key: 'i3', title: '3 instances', behind: instances, workers: 1 },
      ...(workersNote ? [] : [{ key: 'w2', title: 'WORKERS=2', behind: [workers], workers: 2 }]),
      // The same one instance's work with the limits kept in its memory: what Redis costs under load.
      { key: 'm1', title: '1 instance, in-memory limiter', behind: [memory], workers: 1 },
    ];
    const throughputTargets: LoadTarget[] = [];
    for (const g of groups) {
      const lb = await startBalancer(dir, `nginx-${g.key}`, g.behind);
      children.push(lb.child);
      await waitForHttp(lb.child, `${lb.url}/ready`);
      const token = await limitedToken(g.behind[0] as Instance, shared, `bench-${g.key}`);
      throughputTargets.push({
        key: g.key,
        title: g.title,
        url: lb.url,
        script: chatScript(dir, g.key, token),
        proxyPids: () => g.behind.flatMap((i) => i.pids()),
        nginxPid: lb.child.pid,
      });
    }
    const direct = (key: string, title: string, i: Instance, token: string): LoadTarget => ({
      key,
      title,
      url: i.url,
      script: chatScript(dir, key, token),
      proxyPids: () => i.pids(),
      nginxPid: null,
    });
    const memoryToken = await limitedToken(memory, shared, 'bench-memory');
    const redisToken = await limitedToken(instances[0] as Instance, shared, 'bench-redis');
    const limiterTargets = [
      direct('memory', 'in-memory limiter', memory, memoryToken),
      direct('redis', 'Redis limiter', instances[0] as Instance, redisToken),
    ];
    // The same with a pause after each response: the previous request's settlement has run in Redis
    // before the next admission arrives, so the admission is the only thing on the connection.
    const paused = (t: LoadTarget, token: string): LoadTarget => ({
      ...t,
      key: `${t.key}-paused`,
      title: `${t.title}, ${PAUSE_MS} ms pause`,
      script: chatScript(dir, `${t.key}-paused`, token, PAUSE_MS),
    });
    const pausedTargets = [
      paused(limiterTargets[0] as LoadTarget, memoryToken),
      paused(limiterTargets[1] as LoadTarget, redisToken),
    ];

    const meter: Meter = {
      wrk,
      redisPid: redis.child.pid,
      postgresPids: () => backendPids(db.name),
      redisStats: {
        quiet: () => (probe as RedisProbe).quiet(),
        reset: () => (probe as RedisProbe).resetStats(),
        calls: () => (probe as RedisProbe).commandCalls(),
      },
    };
    log(`throughput, chat at c=${s.connections}: ${s.rounds} rounds of ${s.seconds} s per target`);
    const throughput = await alternate(meter, throughputTargets, { ...s, rounds: s.rounds }, log);
    log(`the limiter at c=1: ${s.limiterRounds} rounds of ${s.seconds} s per limiter`);
    const limiter = await alternate(meter, limiterTargets, { ...s, connections: 1, rounds: s.limiterRounds }, log);
    log(`the limiter at c=1 with a ${PAUSE_MS} ms pause between requests: ${s.limiterRounds} rounds`);
    const limiterPaused = await alternate(meter, pausedTargets, { ...s, connections: 1, rounds: s.limiterRounds }, log);
    const roundTrip = await probe.roundTrip(s.quick ? 200 : 5000);
    const reservations = await probe.reservations();
    // Resident memory of each proxy process at the end, after all of the run's load.
    const rss = [...instances, memory].map((i) => ({ name: i.name, kib: rssKiB(i.child.pid) }));

    const run: ScaleoutRun = {
      startedAt,
      host: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'CPU',
        node: process.version,
        nginx: nginxVersion(),
        redis: redis.version,
        postgres: db.version,
        foreignBusyPercent: foreignBusy,
      },
      settings: {
        build: buildOf(s.cli),
        quick: s.quick,
        rounds: s.rounds,
        limiterRounds: s.limiterRounds,
        seconds: s.seconds,
        connections: s.connections,
      },
      throughput: {
        targets: throughputTargets.map((t) => ({
          key: t.key,
          title: t.title,
          instances: groups.find((g) => g.key === t.key)?.behind.length ?? 1,
          redis: t.key !== 'm1',
        })),
        rounds: throughput,
      },
      workers: workersNote ? { measured: false, note: workersNote } : { measured: true, note: null },
      limiter: {
        targets: limiterTargets.map((t) => ({ key: t.key, title: t.title })),
        rounds: limiter,
        paused: {
          pauseMs: PAUSE_MS,
          targets: pausedTargets.map((t) => ({ key: t.key, title: t.title })),
          rounds: limiterPaused,
        },
        redisRoundTrip: roundTrip,
      },
      redisMemory: reservations,
      proxyRss: rss,
    };
    writeReport(s.out, 'scaleout', renderScaleout(run), run);
    log(`\nwrote ${path.join(s.out, 'scaleout.md')} and scaleout.json`);
  } finally {
    await probe?.close();
    for (const c of children.reverse()) await c.stop();
    await db.drop().catch((err: unknown) => log(`dropping the throwaway database: ${(err as Error).message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    log(`scale-out benchmark failed: ${(err as Error)?.stack ?? err}`);
    process.exitCode = 1;
  });
}
