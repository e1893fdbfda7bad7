import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IdempotencyClaim, IdempotencyStore } from '../../src/idempotency/idempotency-store.js';
import { RedisIdempotencyStore } from '../../src/idempotency/redis-idempotency-store.js';
import type { RedisConnection } from '../../src/redis/connection.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { IdempotencyKeysRepo } from '../../src/store/idempotency-keys-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { dropPrefix, testRedis } from '../helpers/limiters.js';
import { projectRow } from '../helpers/rows.js';
import { serviceAvailable } from '../helpers/services.js';

const LEASE = 30_000;
const TTL = 86_400_000;

/** Two stores over one backend (two instances), and how to make the projects keys belong to. */
interface Backend {
  a: IdempotencyStore;
  b: IdempotencyStore;
  project(): Promise<string>;
  close(): Promise<void>;
}

async function databaseBackend(make: () => Promise<TestDatabase | undefined>): Promise<Backend | undefined> {
  const tdb = await make();
  if (!tdb) return undefined;
  const dbA: Db = openDatabase(tdb.config);
  await migrateToLatest(dbA);
  const dbB: Db = openDatabase(tdb.config);
  let n = 0;
  return {
    a: new IdempotencyKeysRepo(dbA),
    b: new IdempotencyKeysRepo(dbB),
    async project() {
      const id = `p-${++n}`;
      await dbA
        .insertInto('projects')
        .values(projectRow({ id: id, name: id }))
        .execute();
      return id;
    },
    async close() {
      await dbA.destroy();
      await dbB.destroy();
      await tdb.drop();
    },
  };
}

async function redisBackend(): Promise<Backend | undefined> {
  if (!(await serviceAvailable('redis'))) return undefined;
  const prefix = `llmp-test-${randomBytes(6).toString('hex')}`;
  const ca: RedisConnection = await testRedis();
  const cb: RedisConnection = await testRedis();
  let n = 0;
  return {
    a: new RedisIdempotencyStore(ca, prefix),
    b: new RedisIdempotencyStore(cb, prefix),
    project: async () => `p-${++n}`,
    async close() {
      await dropPrefix(ca, prefix);
      await ca.close();
      await cb.close();
    },
  };
}

const BACKENDS: Array<[name: string, make: () => Promise<Backend | undefined>]> = [
  ...DIALECTS.map(([name, make]): [string, () => Promise<Backend | undefined>] => [name, () => databaseBackend(make)]),
  ['redis', redisBackend],
];

/** Idempotency keys: the same contract on SQLite, PostgreSQL and Redis. */
describe.each(BACKENDS)('idempotency keys on %s', (_name, make) => {
  let be: Backend | undefined;
  let project: string;
  let seq = 0;
  const claim = (over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({
    projectId: project,
    key: 'key-1',
    fingerprint: 'f'.repeat(64),
    owner: 'instance-a',
    requestId: `req-${++seq}`,
    now: 1_000_000,
    leaseMs: LEASE,
    ttlMs: TTL,
    ...over,
  });

  beforeAll(async () => {
    be = await make();
  });
  afterAll(async () => {
    await be?.close();
  });
  beforeEach(async (ctx) => {
    if (!be) ctx.skip();
    project = await (be as Backend).project();
  });

  it('of requests claiming one key at once, exactly one runs; the others see it in flight', async () => {
    const { a, b } = be as Backend;
    for (let round = 0; round < 10; round++) {
      const key = `race-${round}`;
      const held = await Promise.all([
        a.claim(claim({ key })),
        b.claim(claim({ key, owner: 'instance-b' })),
        a.claim(claim({ key })),
        b.claim(claim({ key, owner: 'instance-b' })),
      ]);
      expect(held.filter((h) => h === null)).toHaveLength(1);
      for (const h of held) if (h !== null) expect(h).toEqual({ state: 'in_flight', fingerprint: 'f'.repeat(64) });
    }
  });

  it('a completed claim returns its response to every repeat, byte for byte, from either instance', async () => {
    const { a, b } = be as Backend;
    const first = claim();
    expect(await a.claim(first)).toBeNull();
    const response = Buffer.from([0, 1, 2, 255, 0x7c, 10, 13]);
    expect(await a.complete(first, response, first.now + 10)).toBe(true);
    const again = await b.claim(claim({ now: first.now + 20 }));
    expect(again).toEqual({ state: 'done', fingerprint: first.fingerprint, response });
    // Another request's fingerprint is reported as it is: the caller answers 422.
    expect(await a.claim(claim({ fingerprint: 'e'.repeat(64), now: first.now + 30 }))).toMatchObject({
      state: 'done',
      fingerprint: first.fingerprint,
    });
  });

  it('a response not kept is remembered as such', async () => {
    const { a, b } = be as Backend;
    const first = claim();
    expect(await a.claim(first)).toBeNull();
    expect(await a.complete(first, null, first.now)).toBe(true);
    expect(await b.claim(claim())).toEqual({ state: 'done', fingerprint: first.fingerprint, response: null });
  });

  it('a released claim frees the key: the next request runs', async () => {
    const { a, b } = be as Backend;
    const first = claim();
    expect(await a.claim(first)).toBeNull();
    expect(await b.release({ ...first, requestId: 'someone-else' })).toBe(false);
    expect(await a.release(first)).toBe(true);
    const second = claim({ owner: 'instance-b' });
    expect(await b.claim(second)).toBeNull();
    // The first request, back late, can neither store nor release what is now the second's.
    expect(await a.complete(first, Buffer.from('late'), first.now)).toBe(false);
    expect(await a.release(first)).toBe(false);
    expect(await b.complete(second, Buffer.from('ok'), second.now)).toBe(true);
  });

  it('keys are scoped per project: one key value in two projects is two keys', async () => {
    const { a } = be as Backend;
    const other = await (be as Backend).project();
    expect(await a.claim(claim())).toBeNull();
    expect(await a.claim(claim({ projectId: other, fingerprint: 'e'.repeat(64) }))).toBeNull();
  });

  it('the window ends at expires_at: then the key is new again, whatever it held', async () => {
    const { a, b } = be as Backend;
    const first = claim();
    expect(await a.claim(first)).toBeNull();
    expect(await a.complete(first, Buffer.from('one'), first.now)).toBe(true);
    expect(await b.claim(claim({ now: first.now + TTL - 1 }))).toMatchObject({ state: 'done' });
    const later = claim({ now: first.now + TTL, fingerprint: 'e'.repeat(64) });
    expect(await b.claim(later)).toBeNull();
    expect(await a.claim(claim({ now: later.now + 1 }))).toEqual({ state: 'in_flight', fingerprint: 'e'.repeat(64) });
  });

  it("a claim whose lease lapsed (its instance died) is taken over by the same request, not another's", async () => {
    const { a, b } = be as Backend;
    const first = claim();
    expect(await a.claim(first)).toBeNull();
    const lapsed = first.now + LEASE;
    expect(await b.claim(claim({ now: lapsed - 1, owner: 'instance-b' }))).toMatchObject({ state: 'in_flight' });
    expect(await b.claim(claim({ now: lapsed, owner: 'instance-b', fingerprint: 'e'.repeat(64) }))).toMatchObject({
      state: 'in_flight',
      fingerprint: first.fingerprint,
    });
    const second = claim({ now: lapsed, owner: 'instance-b' });
    expect(await b.claim(second)).toBeNull();
    expect(await a.complete(first, Buffer.from('late'), lapsed)).toBe(false);
  });

  it('renewing keeps a claim in flight past its first lease', async () => {
    const { a, b } = be as Backend;
    const first = claim();
    expect(await a.claim(first)).toBeNull();
    await a.renew('instance-a', [first], first.now + LEASE - 1, LEASE);
    expect(await b.claim(claim({ now: first.now + LEASE + 1, owner: 'instance-b' }))).toMatchObject({
      state: 'in_flight',
    });
    expect(await a.complete(first, Buffer.from('done'), first.now + LEASE + 2)).toBe(true);
  });

  it('sweeping deletes only keys whose window ended (Redis expires its own)', async () => {
    const { a } = be as Backend;
    expect(await a.claim(claim({ key: 'old', now: 0 }))).toBeNull();
    expect(await a.claim(claim({ key: 'new', now: TTL }))).toBeNull();
    const swept = await a.sweep(TTL, 100);
    expect(swept).toBe(a instanceof RedisIdempotencyStore ? 0 : 1);
    expect(await a.claim(claim({ key: 'new', now: TTL + 1 }))).toMatchObject({ state: 'in_flight' });
  });
});
