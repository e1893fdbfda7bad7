#!/usr/bin/env node
/**
 * The Redis limiter alone at c=1, against the in-memory limiter: what one admission costs on the
 * client (CPU) and in time, without the proxy, HTTP or the upstream around it. Each iteration
 * admits one request of the bench's token and project (the limits of scaleout-stack.ts: RPM, a
 * month budget each, max_concurrent on the token), then settles it without waiting (as accounting
 * does), and the next admission follows at once: it meets the settlement on the wire, as at c=1
 * through the proxy. `--pause-us N` waits N microseconds between iterations instead.
 * `--settle-apart` sends the Redis limiter's settlements on a second connection (an experiment:
 * does the admission still wait behind them?).
 *
 *   node dist-bench/benchmarks/scaleout-limiter.js [--n 20000] [--rounds 5] [--redis redis://127.0.0.1:6379]
 *                                                  [--pause-us 0] [--profile out.cpuprofile]
 *
 * Profile: `node --cpu-prof --cpu-prof-dir /tmp/prof dist-bench/benchmarks/scaleout-limiter.js --only redis`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Admission, Limiter, SubjectLimits } from '../src/limits/limits.js';
import { MemoryLimiter } from '../src/limits/memory-limiter.js';
import { RedisLimiter } from '../src/limits/redis-limiter.js';
import { RedisConnection } from '../src/redis/connection.js';
import { systemClock } from '../src/shared/clock.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    'pause-us': { type: 'string', default: '0' },
    only: { type: 'string' },
    'settle-apart': { type: 'boolean', default: false },
  },
});
const N = Number(values.n);
const ROUNDS = Number(values.rounds);
const PAUSE_US = Number(values['pause-us']);

const subject = (kind: SubjectLimits['kind'], id: string, over: Partial<SubjectLimits>): SubjectLimits => ({
  kind,
  id,
  maxRequests: null,
  requestCount: 0,
  requestsPerMinute: null,
  maxConcurrent: null,
  tokensPerMinute: null,
  budgetNanoUsd: null,
  budgetPeriod: 'total',
  ...over,
});
const subjects = [
  subject('token', 'bench-token', {
    requestsPerMinute: 1_000_000_000,
    maxConcurrent: 1_000_000,
    budgetNanoUsd: 1_000_000_000_000_000,
    budgetPeriod: 'month',
  }),
  subject('project', 'bench-project', {
    requestsPerMinute: 1_000_000_000,
    budgetNanoUsd: 1_000_000_000_000_000,
    budgetPeriod: 'month',
  }),
];
const run = randomBytes(4).toString('hex');
let seq = 0;
const admission = (): Admission => ({
  requestId: `${run}-${++seq}`,
  subjects,
  estimatedTokens: 100,
  estimatedCostNanoUsd: 50_000,
});

const pause = (us: number) =>
  new Promise<void>((resolve) => {
    if (us <= 0) return setImmediate(resolve);
    const until = process.hrtime.bigint() + BigInt(us * 1000);
    const spin = () => (process.hrtime.bigint() >= until ? resolve() : setImmediate(spin));
    spin();
  });

interface Pass {
  p50: number;
  p99: number;
  cpuUs: number;
}

async function pass(limiter: Limiter, n: number, settler: Limiter = limiter): Promise<Pass> {
  const lat = new Float64Array(n);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await limiter.admit(admission());
    lat[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!r.ok) throw new Error(`refused: ${r.refusal.kind}`);
    settler.settle(r.ticket, 80, 40);
    await pause(PAUSE_US);
  }
  const cpu = process.cpuUsage(cpu0);
  lat.sort();
  return {
    p50: lat[Math.floor(n * 0.5)] as number,
    p99: lat[Math.floor(n * 0.99)] as number,
    cpuUs: (cpu.user + cpu.system) / n,
  };
}

const fmt = (p: Pass) => `p50 ${p.p50.toFixed(3)} ms  p99 ${p.p99.toFixed(3)} ms  cpu ${p.cpuUs.toFixed(1)} us/req`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const connectionOptions = {
    url: values.redis as string,
    connectTimeoutMs: 5_000,
    commandTimeoutMs: 1_000,
    breakerFailures: 5,
    breakerOpenMs: 1_000,
  };
  const connection = new RedisConnection(connectionOptions);
  await connection.connect();
  const prefix = `bench-limiter-${run}`;
  const redis = new RedisLimiter(connection, async () => 0, { prefix });
  // The same keys through a connection of its own, for --settle-apart.
  let second: RedisConnection | undefined;
  let settler: RedisLimiter = redis;
  if (values['settle-apart']) {
    second = new RedisConnection({ ...connectionOptions, url: values.redis as string });
    await second.connect();
    settler = new RedisLimiter(second, async () => 0, { prefix });
  }
  const memory = new MemoryLimiter(async () => 0, systemClock);
  const only = values.only;
  // Warm up both (JIT, the script cached on the server, budgets seeded).
  if (only !== 'memory') await pass(redis, 2_000, settler);
  if (only !== 'redis') await pass(memory, 2_000);
  const rows: Array<{ redis?: Pass; memory?: Pass }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const row: { redis?: Pass; memory?: Pass } = {};
    if (only !== 'memory') row.redis = await pass(redis, N, settler);
    if (only !== 'redis') row.memory = await pass(memory, N);
    rows.push(row);
    console.log(
      `round ${r + 1}: redis ${row.redis ? fmt(row.redis) : '-'} | memory ${row.memory ? fmt(row.memory) : '-'}`,
    );
  }
  if (only === undefined) {
    const diff = (f: (p: Pass) => number) => median(rows.map((x) => f(x.redis as Pass) - f(x.memory as Pass)));
    console.log(
      `added by Redis (median of rounds): p50 +${diff((p) => p.p50).toFixed(3)} ms, p99 +${diff((p) => p.p99).toFixed(3)} ms, cpu +${diff((p) => p.cpuUs).toFixed(1)} us/req`,
    );
  }
  await redis.close();
  await settler.close();
  await second?.close();
  await memory.close();
  const keys = await connection.scan(`${prefix}:*`);
  for (const key of keys) await connection.send(['DEL', key]);
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
