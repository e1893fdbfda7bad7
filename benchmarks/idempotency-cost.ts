#!/usr/bin/env node
/**
 * `npm run bench:idempotency`: what an Idempotency-Key costs one request, measured in isolation.
 * It loads the built code (dist/) in this process and runs, per mode, what the request path does
 * for a request with the header: the SHA-256 fingerprint of a 1 KiB body, the claim (one store
 * round trip) and, for a new key, storing a 2 KiB response (the write after the answer). The
 * stores are the real ones: SQLite in a temp directory, PostgreSQL and Redis at their test
 * addresses when they answer. Modes alternate in rounds; the figures are the median round's CPU of
 * this process (user + system, SQLite's work included as it runs in-process; the PostgreSQL and
 * Redis servers' own CPU is not) and wall time, per request, one request at a time.
 *
 *   node dist-bench/benchmarks/idempotency-cost.js [--requests 2000] [--rounds 5] [--postgres <url>] [--redis <url>]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { fingerprint as Fingerprint } from '../src/idempotency/idempotency-key.js';
import type { IdempotencyStore } from '../src/idempotency/idempotency-store.js';
import type { RedisIdempotencyStore as RedisStore } from '../src/idempotency/redis-idempotency-store.js';
import type { RedisConnection as Connection } from '../src/redis/connection.js';
import type { openDatabase as OpenDatabase } from '../src/store/database.js';
import type { IdempotencyKeysRepo as Repo } from '../src/store/idempotency-keys-repo.js';
import type { migrateToLatest as Migrate } from '../src/store/migrate.js';
import { log, ROOT } from './harness-stack.js';

const dist = (file: string) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);

const BODY = Buffer.from(
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(960) }] }),
);
const RESPONSE = randomBytes(2048);
const HEADERS: Record<string, string> = { authorization: 'Bearer x', 'content-type': 'application/json' };

interface Mode {
  name: string;
  run(i: number): Promise<void> | void;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '5' },
      postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    },
  });
  const n = Number(values.requests);
  const rounds = Number(values.rounds);
  const { fingerprint } = (await dist('idempotency/idempotency-key.js')) as { fingerprint: typeof Fingerprint };
  const { openDatabase } = (await dist('store/database.js')) as { openDatabase: typeof OpenDatabase };
  const { migrateToLatest } = (await dist('store/migrate.js')) as { migrateToLatest: typeof Migrate };
  const { IdempotencyKeysRepo } = (await dist('store/idempotency-keys-repo.js')) as {
    IdempotencyKeysRepo: typeof Repo;
  };
  const { RedisIdempotencyStore } = (await dist('idempotency/redis-idempotency-store.js')) as {
    RedisIdempotencyStore: typeof RedisStore;
  };
  const { RedisConnection } = (await dist('redis/connection.js')) as { RedisConnection: typeof Connection };

  const closers: Array<() => Promise<void>> = [];
  const stores: Array<[string, IdempotencyStore, string]> = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-idem-bench-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const sqlite = openDatabase({ kind: 'sqlite', path: path.join(dir, 'bench.db') });
  await migrateToLatest(sqlite);
  closers.unshift(() => sqlite.destroy());
  stores.push(['SQLite', new IdempotencyKeysRepo(sqlite), await project(sqlite)]);
  // PostgreSQL: a throwaway database beside the one named, dropped at the end.
  const pgUrl = values.postgres;
  const pgName = `llmp_bench_${randomBytes(4).toString('hex')}`;
  try {
    await adminQuery(pgUrl, `CREATE DATABASE ${pgName}`);
    closers.push(() => adminQuery(pgUrl, `DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`));
    const pg = openDatabase({ kind: 'postgres', url: pgUrl.replace(/\/[^/]*$/, `/${pgName}`) });
    closers.unshift(() => pg.destroy());
    await migrateToLatest(pg);
    stores.push(['PostgreSQL', new IdempotencyKeysRepo(pg), await project(pg)]);
  } catch (err) {
    log(`PostgreSQL skipped (${(err as Error).message})`);
  }
  try {
    const redis = new RedisConnection({
      url: values.redis,
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
      breakerFailures: 5,
      breakerOpenMs: 1000,
    });
    await redis.connect();
    const prefix = `llmp-bench-${randomBytes(4).toString('hex')}`;
    closers.unshift(async () => {
      for (const k of await redis.scan(`${prefix}:*`)) await redis.send(['DEL', k]);
      await redis.close();
    });
    stores.push(['Redis', new RedisIdempotencyStore(redis, prefix), 'bench-project']);
  } catch (err) {
    log(`Redis skipped (${(err as Error).message})`);
  }

  const now = Date.now();
  let seq = 0;
  const claim = (projectId: string, key: string) => ({
    projectId,
    key,
    fingerprint: fingerprint('POST', '/v1/chat/completions', BODY),
    owner: 'bench',
    requestId: `req-${++seq}`,
    now,
    leaseMs: 30_000,
    ttlMs: 86_400_000,
  });
  const modes: Mode[] = [
    {
      // What a request without the header pays: one header lookup.
      name: 'no header',
      run() {
        if (HEADERS['idempotency-key'] !== undefined) throw new Error('unexpected header');
      },
    },
  ];
  for (const [name, store, projectId] of stores) {
    // One key completed up front, replayed by every request of the replay mode.
    const done = claim(projectId, 'replayed');
    if ((await store.claim(done)) === null) await store.complete(done, RESPONSE, now);
    modes.push({
      name: `${name}: new key (claim + store)`,
      async run() {
        const c = claim(projectId, `k-${seq}`);
        if ((await store.claim(c)) !== null) throw new Error('claim lost');
        await store.complete(c, RESPONSE, now);
      },
    });
    modes.push({
      name: `${name}: repeat (claim → stored answer)`,
      async run() {
        const held = await store.claim(claim(projectId, 'replayed'));
        if (held?.state !== 'done') throw new Error('no stored answer');
      },
    });
  }

  const results = new Map<string, Array<{ cpu: number; wall: number }>>();
  for (const m of modes) for (let i = 0; i < 200; i++) await m.run(i); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const m of modes) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await m.run(i);
      const wall = ((performance.now() - t0) * 1000) / n;
      const c = process.cpuUsage(cpu0);
      const list = results.get(m.name) ?? [];
      list.push({ cpu: (c.user + c.system) / n, wall });
      results.set(m.name, list);
    }
    log(`round ${r + 1}/${rounds} done`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const rows = ['| mode | CPU µs per request | wall µs per request |', '|---|---:|---:|'];
  for (const [name, list] of results) {
    rows.push(
      `| ${name} | ${median(list.map((x) => x.cpu)).toFixed(1)} | ${median(list.map((x) => x.wall)).toFixed(1)} |`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
  for (const close of closers) await close();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A project row for the keys' foreign key. */
async function project(db: ReturnType<typeof OpenDatabase>): Promise<string> {
  const id = `bench-${randomBytes(6).toString('hex')}`;
  await db
    .insertInto('projects')
    .values({
      id,
      name: id,
      api_key_encrypted: 'x',
      api_key_hint: 'x',
      base_url: null,
      is_active: 1,
      max_requests: null,
      requests_per_minute: null,
      max_concurrent: null,
      tokens_per_minute: null,
      budget_nano_usd: null,
      allowed_models: null,
      allowed_endpoints: null,
      created_at: 0,
      updated_at: 0,
    })
    .execute();
  return id;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
