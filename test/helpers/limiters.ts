import { randomBytes } from 'node:crypto';
import type { Admission, Limiter, SubjectLimits } from '../../src/limits/limits.js';
import { MemoryLimiter, type SpentLoader } from '../../src/limits/memory-limiter.js';
import { RedisLimiter, type RedisLimiterOptions } from '../../src/limits/redis-limiter.js';
import { StoreCountedLimiter } from '../../src/limits/store-counted-limiter.js';
import { createLogger } from '../../src/observability/logger.js';
import { RedisConnection, type RedisOptions } from '../../src/redis/connection.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { LimitCountersRepo } from '../../src/store/limit-counters-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { redisServerAvailable, sharedCluster } from '../scaleout/redis-cluster-server.js';
import { postgresDatabase } from './databases.js';
import { serviceAvailable } from './services.js';

/** A token's limits (none set unless overridden), as a limiter's subject. */
export const limits = (over: Partial<SubjectLimits> = {}): SubjectLimits => ({
  kind: 'token',
  id: 'tok',
  maxRequests: null,
  requestCount: 0,
  requestsPerMinute: null,
  maxConcurrent: null,
  tokensPerMinute: null,
  budgetNanoUsd: null,
  budgetPeriod: 'total',
  ...over,
});
/** A project's limits (none set unless overridden). */
export const project = (over: Partial<SubjectLimits> = {}) => limits({ kind: 'project', id: 'proj', ...over });

let ids = 0;
/** An admission of `subjects` with a fresh request id (10 tokens, no cost unless overridden). */
export const admission = (subjects: SubjectLimits[], over: Partial<Admission> = {}): Admission => ({
  requestId: `req-${++ids}`,
  subjects,
  estimatedTokens: 10,
  estimatedCostNanoUsd: 0,
  ...over,
});

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Connection settings for the local test Redis: generous timeouts (a loaded machine), a breaker. */
export const testRedisOptions = (over: Partial<RedisOptions> = {}): RedisOptions => ({
  url: REDIS_URL,
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 10_000,
  breakerFailures: 5,
  breakerOpenMs: 1_000,
  ...over,
});

/** A connected client to the test Redis (closed by the caller). */
export async function testRedis(over: Partial<RedisOptions> = {}): Promise<RedisConnection> {
  const c = new RedisConnection(testRedisOptions(over));
  await c.connect();
  return c;
}

/** Deletes every key under a test's prefix (one DEL per key: on a cluster, keys of several slots). */
export async function dropPrefix(redis: RedisConnection, prefix: string): Promise<void> {
  const keys = await redis.scan(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) {
    await Promise.all(keys.slice(i, i + 500).map((key) => redis.send(['DEL', key])));
  }
}

export interface TestLimiters {
  /**
   * A limiter reading spend from `loadSpent`. On Redis every limiter of one `TestLimiters` shares
   * the same state (separate connections: separate instances); in memory each is on its own.
   */
  make(loadSpent: SpentLoader, opts?: RedisLimiterOptions): Limiter;
  /** The memory backend's clock, to move; undefined on Redis (its clock is the server's). */
  clock: { set(t: number): void } | undefined;
  /** Milliseconds on the backend's clock now (Redis: its TIME). */
  now(): Promise<number>;
  /** Closes every limiter and connection made, and deletes the keys they wrote. */
  close(): Promise<void>;
}

/**
 * Every limiter backend, declared once beside DIALECTS: the contract suite loops over it with
 * `describe.each(LIMITER_BACKENDS)`. `make` resolves undefined when the backend's server is not
 * there (the suite skips; under REQUIRE_SERVICES=1 serviceAvailable throws instead).
 */
export const LIMITER_BACKENDS: Array<[name: string, make: () => Promise<TestLimiters | undefined>]> = [
  ['memory', async () => memoryLimiters()],
  ['redis', async () => ((await serviceAvailable('redis')) ? redisLimiters() : undefined)],
  // Caps and lifetime budgets counted in PostgreSQL (no Redis); the rest in each instance's memory.
  ['postgres-counted', async () => ((await serviceAvailable('postgres')) ? pgCountedLimiters() : undefined)],
  // Three masters of the worker's own (test/scaleout/redis-cluster-server.ts), started once per worker.
  [
    'redis-cluster',
    async () =>
      (await redisServerAvailable()) ? redisLimiters({ url: (await sharedCluster()).url, cluster: true }) : undefined,
  ],
];

/** A clock the test moves, starting a minute before a day's and a month's end. */
function movedClock() {
  let t = Date.UTC(2026, 0, 31, 23, 59);
  return {
    read: () => t,
    clock: {
      set: (to: number) => {
        t = to;
      },
    },
    now: async () => t,
  };
}

function memoryLimiters(): TestLimiters {
  const { read, clock, now } = movedClock();
  const made: Limiter[] = [];
  return {
    make: (loadSpent) => {
      const l = new MemoryLimiter(loadSpent, read);
      made.push(l);
      return l;
    },
    clock,
    now,
    close: async () => {
      await Promise.all(made.map((l) => l.close()));
    },
  };
}

/** StoreCountedLimiters on one fresh PostgreSQL database, each with its own pool: separate instances. */
async function pgCountedLimiters(): Promise<TestLimiters> {
  const tdb = await postgresDatabase();
  const pools: Db[] = [];
  const pool = () => {
    // Exactness, not timeouts, is tested here: on a loaded machine 250 admissions queued on one
    // pool can wait past the default connect timeout for a connection.
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    const db = openDatabase({ ...tdb.config, connectTimeoutMs: 600_000 });
    pools.push(db);
    return db;
  };
  await migrateToLatest(pool());
  const { read: clock, clock: moved, now } = movedClock();
  const made: Limiter[] = [];
  const logger = createLogger({ level: 'silent' });
  return {
    make: (loadSpent) => {
      const l = new StoreCountedLimiter(new MemoryLimiter(loadSpent, clock), new LimitCountersRepo(pool()), loadSpent, {
        instanceId: `test:${made.length}`,
        clock,
        logger,
      });
      made.push(l);
      return l;
    },
    clock: moved,
    now,
    close: async () => {
      await Promise.all(made.map((l) => l.close()));
      await Promise.all(pools.map((db) => db.destroy()));
      await tdb.drop();
    },
  };
}

async function redisLimiters(server: Partial<RedisOptions> = {}): Promise<TestLimiters> {
  const prefix = `llmp-test-${randomBytes(6).toString('hex')}`;
  const admin = await testRedis(server);
  const made: Array<{ limiter: Limiter; conn: RedisConnection }> = [];
  const pending: Promise<RedisConnection>[] = [];
  return {
    make: (loadSpent, opts) => {
      // Connected in the background: the limiter's calls wait for it (ConnectedFirst).
      const conn = new RedisConnection(testRedisOptions(server));
      const ready = conn.connect().then(() => conn);
      pending.push(ready);
      const limiter = new RedisLimiter(conn, loadSpent, { prefix, ...opts });
      made.push({ limiter, conn });
      return new ConnectedFirst(limiter, ready);
    },
    clock: undefined,
    now: async () => {
      const [s, us] = await admin.send<[string, string]>(['TIME']);
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    },
    close: async () => {
      await Promise.allSettled(pending);
      for (const { limiter, conn } of made) {
        await limiter.close();
        await conn.close();
      }
      await dropPrefix(admin, prefix);
      await admin.close();
    },
  };
}

/** A limiter whose calls wait for its connection first (tests make limiters synchronously). */
class ConnectedFirst implements Limiter {
  constructor(
    readonly inner: RedisLimiter,
    private readonly ready: Promise<unknown>,
  ) {}
  async admit(a: Parameters<Limiter['admit']>[0]) {
    await this.ready;
    return this.inner.admit(a);
  }
  settle(...args: Parameters<Limiter['settle']>): void {
    void this.ready.then(() => this.inner.settle(...args));
  }
  budgetUse() {
    return this.inner.budgetUse();
  }
  async inspect(kind: SubjectLimits['kind'], id: string, projectId?: string) {
    await this.ready;
    // Settlements are fire and forget: what they did is visible once they are done.
    await this.inner.close();
    return this.inner.inspect(kind, id, projectId);
  }
  close() {
    return this.inner.close();
  }
}
