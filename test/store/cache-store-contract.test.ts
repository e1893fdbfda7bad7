import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { type CacheEntry, type CacheStore, MemoryCacheStore } from '../../src/proxy/cache/cache-store.js';
import { RedisCacheStore } from '../../src/proxy/cache/redis-cache-store.js';
import { ResponseCache } from '../../src/proxy/cache/response-cache.js';
import { RedisConnection } from '../../src/redis/connection.js';
import { manualClock } from '../helpers/clock.js';
import { dropPrefix, testRedis, testRedisOptions } from '../helpers/limiters.js';
import { closedPort, until } from '../helpers/proxy.js';
import { serviceAvailable } from '../helpers/services.js';

/** A store, the clock it reads, and how to end it. */
interface Backend {
  store: CacheStore;
  clock: ReturnType<typeof manualClock>;
  close(): Promise<void>;
}

const BACKENDS: Array<[name: string, make: () => Promise<Backend | undefined>]> = [
  [
    'memory',
    async () => {
      const clock = manualClock();
      return { store: new MemoryCacheStore(1 << 20, clock.now), clock, close: async () => {} };
    },
  ],
  [
    'redis',
    async () => {
      if (!(await serviceAvailable('redis'))) return undefined;
      const redis = await testRedis();
      const prefix = `test-cache-${randomBytes(4).toString('hex')}`;
      const clock = manualClock();
      return {
        store: new RedisCacheStore(redis, clock.now, `${prefix}:`),
        clock,
        close: async () => {
          await dropPrefix(redis, prefix);
          await redis.close();
        },
      };
    },
  ],
];

const entry = (body: string, storedAt: number, ttlMs: number, stream = false): CacheEntry => ({
  response: {
    status: 200,
    headers: ['content-type', stream ? 'text/event-stream' : 'application/json', 'x-request-id', 'req_1'],
    body: Buffer.from(body),
    stream,
    storedAt,
  },
  expiresAt: storedAt + ttlMs,
});

const get = async (s: CacheStore, p: string, k: string) => await s.get(p, k);

describe.each(BACKENDS)('cache store on %s', (name, make) => {
  let b: Backend | undefined;
  beforeAll(async () => {
    b = await make();
    if (!b) console.log(`skipped: ${name} is not running`);
  });
  afterAll(async () => {
    await b?.close();
  });

  it('returns what was stored, per project, until it expires', async (ctx) => {
    if (!b) return ctx.skip();
    const { store, clock } = b;
    const now = clock.now();
    const e = entry('{"a":1}', now, 60_000);
    await store.set('p1', 'k1', e);
    await store.set('p1', 'k2', entry('data: x\n\n', now, 60_000, true));
    expect(await get(store, 'p1', 'k1')).toEqual(e);
    expect((await get(store, 'p1', 'k2'))?.response.stream).toBe(true);
    expect(await get(store, 'p1', 'nope')).toBeUndefined();
    // Expiry by the runtime's clock: a moved clock ends the entry (Redis also drops it itself, below).
    clock.advance(60_000);
    expect(await get(store, 'p1', 'k1')).toBeUndefined();
  });

  it('purges one project and leaves the others', async (ctx) => {
    if (!b) return ctx.skip();
    const { store, clock } = b;
    const now = clock.now();
    await store.set('pa', 'x1', entry('1', now, 60_000));
    await store.set('pa', 'x2', entry('2', now, 60_000));
    await store.set('pb', 'x3', entry('3', now, 60_000));
    expect(await store.purge('pa')).toBe(2);
    expect(await get(store, 'pa', 'x1')).toBeUndefined();
    expect(await get(store, 'pa', 'x2')).toBeUndefined();
    expect((await get(store, 'pb', 'x3'))?.response.body.toString()).toBe('3');
    expect(await store.purge('pa')).toBe(0);
  });

  it('an entry whose time has passed is not kept', async (ctx) => {
    if (!b) return ctx.skip();
    const { store, clock } = b;
    await store.set('pt', 'gone', entry('old', clock.now() - 10_000, 5_000));
    expect(await get(store, 'pt', 'gone')).toBeUndefined();
  });

  it('an entry goes at its TTL: memory by the runtime clock, Redis by its own expiry (PX)', async (ctx) => {
    if (!b) return ctx.skip();
    const { store, clock } = b;
    await store.set('px', 'short', entry('soon gone', clock.now(), 50));
    if (store.kind === 'memory') {
      expect(await get(store, 'px', 'short')).toBeDefined();
      clock.advance(50);
    }
    // On Redis the manual clock does not move: only the server's expiry can make it go.
    await until(async () => (await get(store, 'px', 'short')) === undefined);
  });
});

describe('memory cache store bound', () => {
  it('evicts the least recently used entries past CACHE_MEMORY_BYTES', async () => {
    const clock = manualClock();
    const store = new MemoryCacheStore(10_000, clock.now);
    const big = 'x'.repeat(3_000);
    for (const k of ['a', 'b', 'c']) store.set('p', k, entry(big, clock.now(), 60_000));
    expect(store.get('p', 'a')).toBeDefined(); // used: b is now the oldest
    store.set('p', 'd', entry(big, clock.now(), 60_000));
    expect(store.get('p', 'b')).toBeUndefined();
    expect(store.get('p', 'a')).toBeDefined();
    expect(store.get('p', 'd')).toBeDefined();
    expect(store.bytes).toBeLessThanOrEqual(10_000);
    expect(store.entries).toBe(3);
    // Larger than the whole bound: refused, nothing evicted for it.
    store.set('p', 'huge', entry('y'.repeat(20_000), clock.now(), 60_000));
    expect(store.get('p', 'huge')).toBeUndefined();
    expect(store.entries).toBe(3);
  });
});

describe('a Redis outage', () => {
  it('makes a lookup a miss and a store a no-op, counted as errors, never thrown', async () => {
    const port = await closedPort();
    const redis = new RedisConnection(
      testRedisOptions({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 200, commandTimeoutMs: 200 }),
    );
    const clock = manualClock();
    const cache = new ResponseCache(new RedisCacheStore(redis, clock.now, 'test-outage:'), {
      maxEntryBytes: 1 << 20,
      maxTtlSeconds: 3600,
      now: clock.now,
      logger: createLogger({ level: 'silent' }),
    });
    const plan = { lookup: true, store: true, ttlMs: 60_000 };
    expect(await cache.lookup('p', 'k', plan)).toBeUndefined();
    cache.save('p', 'k', plan, entry('x', clock.now(), 1).response);
    await until(() => cache.counts.error === 2);
    expect(cache.counts).toMatchObject({ hit: 0, miss: 0, stored: 0, error: 2 });
    // A purge has no answer to give: the management API turns this into 503 cache_unavailable.
    await expect(cache.purge('p')).rejects.toThrow();
    await redis.close();
  });
});
