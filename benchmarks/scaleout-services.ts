import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { createClient } from 'redis';
import { type Child, freePort, spawnChild, waitForOutput } from './harness-stack.js';

/** The local PostgreSQL the benchmark creates its throwaway database in (trust authentication). */
export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database made for this run and dropped after it, so no run sees another's tokens or usage. */
export async function throwawayDatabase(adminUrl = POSTGRES_ADMIN_URL): Promise<{
  name: string;
  url: string;
  version: string;
  drop(): Promise<void>;
}> {
  const name = `llmp_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let version = '';
  try {
    version = String((await admin.query('SHOW server_version')).rows[0]?.server_version ?? '');
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    version,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * The PostgreSQL server processes serving `database` (a backend's command line reads
 * `postgres: <cluster>: <user> <database> <client> <state>`), when the server runs on this machine.
 * The server's shared processes (WAL writer, checkpointer) are not counted: they work for every
 * database on it.
 */
export function backendPids(database: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres:') && cmd.includes(` ${database} `)) pids.push(Number(e));
    } catch {}
  }
  return pids;
}

/** A redis-server of the run's own on a free port (no persistence), so the `llmp:` keys are the run's alone. */
export async function startRedis(dir: string): Promise<{ child: Child; url: string; version: string }> {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) throw new Error('redis-server is not on PATH (apt-get install redis-server)');
  const port = await freePort();
  const child = spawnChild(
    'redis-server',
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {},
  );
  await waitForOutput(child, /Ready to accept connections/);
  const version = /Redis version=([^\s,]+)/.exec(child.output())?.[1] ?? '';
  return { child, url: `redis://127.0.0.1:${port}`, version };
}

/**
 * Redis's own count of the commands it ran (INFO commandstats), reset between measurements: what
 * one proxied request costs Redis in commands, whatever the client library does.
 */
export class RedisProbe {
  private constructor(private readonly client: ReturnType<typeof createClient>) {}

  static async open(url: string): Promise<RedisProbe> {
    const client = createClient({ url, name: 'llm-proxy-bench-probe' });
    client.on('error', () => {});
    await client.connect();
    return new RedisProbe(client);
  }

  async resetStats(): Promise<void> {
    await this.client.configResetStat();
  }

  /**
   * Waits (up to `boundMs`) until Redis ran no script for 200 ms: the previous target's tail (its
   * last settlements) lands before the next measurement starts rather than in it.
   */
  async quiet(boundMs = 5_000): Promise<void> {
    const scripts = async () => {
      const { calls } = await this.commandCalls();
      return (calls.evalsha ?? 0) + (calls.eval ?? 0);
    };
    const end = Date.now() + boundMs;
    let last = await scripts();
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      const now = await scripts();
      if (now === last) return;
      last = now;
    }
  }

  /**
   * Calls per command since the last reset, without the probe's own CONFIG/INFO, and the time
   * Redis spent in them, µs (a script's time includes the commands it runs).
   */
  async commandCalls(): Promise<{ calls: Record<string, number>; usec: Record<string, number> }> {
    const text = await this.client.info('commandstats');
    const calls: Record<string, number> = {};
    const usec: Record<string, number> = {};
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      const name = m[1] as string;
      if (name === 'info' || name.startsWith('config')) continue;
      calls[name] = Number(m[2]);
      usec[name] = Number(m[3]);
    }
    return { calls, usec };
  }

  /** p50 and p99 of `n` sequential PINGs, ms: one bare round trip on this machine, for scale. */
  async roundTrip(n: number): Promise<{ p50Ms: number; p99Ms: number }> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await this.client.ping();
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  }

  /**
   * What the limiter's reservations hold in Redis now: how many there are (each request leaves one,
   * kept an hour after it settles), `MEMORY USAGE` of a sample of them, and Redis's whole
   * `used_memory`, in bytes.
   */
  async reservations(sample = 200): Promise<{ keys: number; bytesEach: number | null; usedMemory: number }> {
    let keys = 0;
    const sizes: number[] = [];
    for await (const batch of this.client.scanIterator({ MATCH: 'llmp:*:r:*', COUNT: 1000 })) {
      for (const key of batch) {
        keys++;
        if (sizes.length < sample) sizes.push((await this.client.memoryUsage(key)) ?? 0);
      }
    }
    sizes.sort((a, b) => a - b);
    const used = /^used_memory:(\d+)/m.exec(await this.client.info('memory'))?.[1];
    return {
      keys,
      bytesEach: sizes.length ? (sizes[sizes.length >> 1] as number) : null,
      usedMemory: Number(used ?? 0),
    };
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => {});
  }
}
