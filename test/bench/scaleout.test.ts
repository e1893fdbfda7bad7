import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScaleoutRun } from '../../benchmarks/scaleout-report.js';
import { findWrk } from '../../benchmarks/wrk.js';
import { childEnv } from '../helpers/cli.js';
import { POSTGRES_URL, serviceAvailable, unavailable } from '../helpers/services.js';

/**
 * `npm run bench:scaleout` in its tiny mode (`--quick`: one round of 1 s per target): it starts
 * three instances and a WORKERS=2 server on a throwaway PostgreSQL database and its own Redis
 * behind nginx, writes a report of the expected shape, and leaves nothing behind. No timing is
 * asserted: only what the run must contain whatever the machine's speed.
 */
const SCRIPT = path.resolve('dist-bench/benchmarks/scaleout.js');
const tools = (() => {
  if (!findWrk()) return unavailable('wrk is not on PATH: skipping the scale-out benchmark test');
  if (!existsSync('/usr/sbin/nginx')) return unavailable('no nginx: skipping the scale-out benchmark test');
  return true;
})();
const postgres = await serviceAvailable('postgres');

const out = mkdtempSync(path.join(tmpdir(), 'llmp-scaleout-report-'));
/** The benchmark's process group while it runs: stopped whole if the test ends first. */
let running: number | undefined;
afterAll(() => {
  try {
    if (running !== undefined) process.kill(-running, 'SIGKILL');
  } catch {} // already gone
  rmSync(out, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; pid: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    // In a process group of its own, with the proxies, nginx and Redis it starts.
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: childEnv({}),
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    running = child.pid;
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      running = undefined;
      resolve({ code, pid: child.pid as number, stderr });
    });
  });
}

describe.skipIf(!tools || !postgres)('npm run bench:scaleout -- --quick', () => {
  it('measures every topology and both limiters, and cleans up its database, Redis and files', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const res = await run(['--quick', '--postgres', POSTGRES_URL, '--out', out]);
    expect(res.stderr).not.toMatch(/benchmark failed/);
    expect(res.code).toBe(0);

    const report = JSON.parse(readFileSync(path.join(out, 'scaleout.json'), 'utf8')) as ScaleoutRun;
    expect(report.settings).toMatchObject({ quick: true, rounds: 1, limiterRounds: 1, seconds: 1 });
    const keys = report.throughput.targets.map((t) => t.key);
    // WORKERS=2 is measured where the build forks workers, and said to be missing otherwise.
    expect(keys).toEqual(report.workers.measured ? ['i1', 'i2', 'i3', 'w2', 'm1'] : ['i1', 'i2', 'i3', 'm1']);
    expect(report.workers.note === null).toBe(report.workers.measured);
    expect(report.throughput.targets.map((t) => t.instances)).toEqual(
      report.workers.measured ? [1, 2, 3, 1, 1] : [1, 2, 3, 1],
    );
    expect(report.throughput.rounds).toHaveLength(1);
    // One instance on the in-memory limiter, through nginx like the others: it never calls Redis.
    // Redis's counters are the server's, and the idle Redis instances' background work (a sweep,
    // a lease renewal) may land in this round: a few calls, never one a request as a Redis limiter's
    // admission makes (the bench waits for the previous round's settlements to end first).
    expect(report.throughput.rounds[0]?.m1?.requests).toBeGreaterThan(0);
    expect(report.throughput.rounds[0]?.m1?.redisCalls?.evalsha ?? 0).toBeLessThan(1);
    for (const key of keys.filter((k) => k !== 'm1')) {
      const r = report.throughput.rounds[0]?.[key];
      expect(r?.requests, key).toBeGreaterThan(0);
      expect(r?.proxyCpuUs, key).toBeGreaterThan(0);
      expect(r?.nginxCpuUs, key).not.toBeNull();
      // Usage records went to the run's database: its backends did work.
      expect(r?.postgresCpuUs, key).toBeGreaterThan(0);
      // Every request went through the Redis limiter: at least its admission's script.
      expect(r?.redisCalls?.evalsha, key).toBeGreaterThanOrEqual(1);
    }

    expect(report.limiter.targets.map((t) => t.key)).toEqual(['memory', 'redis']);
    const [round] = report.limiter.rounds;
    expect(round?.memory?.requests).toBeGreaterThan(0);
    expect(round?.redis?.requests).toBeGreaterThan(0);
    expect(round?.memory?.nginxCpuUs).toBeNull();
    // The in-memory instance never calls Redis (the other instances' background calls that land in
    // its round are a few, never one a request); the Redis one runs its scripts for each request.
    expect(round?.memory?.redisCalls?.evalsha ?? 0).toBeLessThan(1);
    expect(round?.redis?.redisCalls?.evalsha).toBeGreaterThanOrEqual(1);
    // The second pass pauses after each response: the same two limiters.
    expect(report.limiter.paused?.targets.map((t) => t.key)).toEqual(['memory-paused', 'redis-paused']);
    expect(report.limiter.paused?.rounds[0]?.['redis-paused']?.redisCalls?.evalsha).toBeGreaterThanOrEqual(1);
    expect(report.limiter.redisRoundTrip.p50Ms).toBeGreaterThan(0);
    // Each request of the run left its reservation in Redis (kept an hour after it settles).
    expect(report.redisMemory.keys).toBeGreaterThan(0);
    expect(report.redisMemory.bytesEach).toBeGreaterThan(0);

    const md = readFileSync(path.join(out, 'scaleout.md'), 'utf8');
    expect(md).toMatch(/^# Scale-out: instances on PostgreSQL \+ Redis behind nginx/);
    for (const heading of ['## Throughput', '## The Redis limiter at c=1', '## Redis memory', '## Every round']) {
      expect(md).toContain(heading);
    }
    for (const title of [
      '| 1 instance |',
      '| 2 instances |',
      '| 3 instances |',
      '| 1 instance, in-memory limiter |',
      '| Redis − in-memory limiter, 1 instance (per round) |',
      '| in-memory limiter |',
    ]) {
      expect(md).toContain(title);
    }
    expect(md).toContain(report.workers.measured ? '| WORKERS=2 |' : '**WORKERS=2 not measured:**');
    expect(md.match(/\| Redis − in-memory \(per round\) \| [+−]\d+\.\d{3} \|/g)).toHaveLength(2);
    expect(md).toContain('| Redis limiter, 1 ms pause |');
    expect(md).toContain('a quick run (one round of 1 s) measures nothing');

    // The throwaway database is dropped and the run's temp folder removed.
    const db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    try {
      const left = await db.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`llmp_bench_${res.pid}_%`]);
      expect(left.rows).toEqual([]);
    } finally {
      await db.end();
    }
    expect(readdirSync(tmpdir()).filter((f) => !before.has(f) && f.startsWith('llm-proxy-scaleout-'))).toEqual([]);
  });
});
