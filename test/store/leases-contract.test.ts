import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lease } from '../../src/maintenance/lease.js';
import { createLogger } from '../../src/observability/logger.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { LeasesRepo } from '../../src/store/leases-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';

const TTL = 30_000;
const silent = createLogger({ level: 'silent' });

/** Leases for once-per-cluster jobs: the same contract on SQLite and PostgreSQL. */
describe.each(DIALECTS)('leases on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  /** Two connections (pools), as two instances have. */
  let dbA: Db;
  let dbB: Db;
  let a: LeasesRepo;
  let b: LeasesRepo;
  let job = 0;
  /** A fresh lease name per test. */
  let name: string;

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    dbA = openDatabase(tdb.config);
    await migrateToLatest(dbA);
    dbB = openDatabase(tdb.config);
    a = new LeasesRepo(dbA);
    b = new LeasesRepo(dbB);
  });
  afterAll(async () => {
    await dbA?.destroy();
    await dbB?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
    name = `job-${++job}`;
  });

  it('of two holders contending at once, exactly one wins, however often they race', async () => {
    const now = Date.now();
    for (let round = 0; round < 20; round++) {
      const lease = `${name}-${round}`;
      const results = await Promise.all([
        a.acquire(lease, 'instance-a', now, TTL),
        b.acquire(lease, 'instance-b', now, TTL),
        a.acquire(lease, 'instance-c', now, TTL),
        b.acquire(lease, 'instance-d', now, TTL),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = ['instance-a', 'instance-b', 'instance-c', 'instance-d'][results.indexOf(true)];
      expect((await a.current(lease))?.holder).toBe(winner);
    }
  });

  it('renewing keeps it: the holder extends it, the other is refused before and after', async () => {
    const t0 = 1_000_000;
    expect(await a.acquire(name, 'instance-a', t0, TTL)).toBe(true);
    expect(await b.acquire(name, 'instance-b', t0 + 1, TTL)).toBe(false);
    // Renewed two thirds of the way through: now good until t0 + 20 s + TTL.
    expect(await a.acquire(name, 'instance-a', t0 + 20_000, TTL)).toBe(true);
    expect(await b.acquire(name, 'instance-b', t0 + TTL, TTL)).toBe(false);
    expect(await a.current(name)).toEqual({ holder: 'instance-a', expiresAt: t0 + 20_000 + TTL, acquiredAt: t0 });
  });

  it('expiry hands it over: once past expires_at the other takes it, and the old holder is refused', async () => {
    const t0 = 2_000_000;
    expect(await a.acquire(name, 'instance-a', t0, TTL)).toBe(true);
    expect(await b.acquire(name, 'instance-b', t0 + TTL - 1, TTL)).toBe(false);
    expect(await b.acquire(name, 'instance-b', t0 + TTL, TTL)).toBe(true);
    expect(await a.current(name)).toEqual({ holder: 'instance-b', expiresAt: t0 + 2 * TTL, acquiredAt: t0 + TTL });
    // The old holder, back late (a paused process), cannot renew what it lost.
    expect(await a.acquire(name, 'instance-a', t0 + TTL + 1, TTL)).toBe(false);
  });

  it('release lets another take it at once; only the holder can release', async () => {
    const t0 = 3_000_000;
    expect(await a.acquire(name, 'instance-a', t0, TTL)).toBe(true);
    expect(await b.release(name, 'instance-b')).toBe(false);
    expect(await b.acquire(name, 'instance-b', t0 + 1, TTL)).toBe(false);
    expect(await a.release(name, 'instance-a')).toBe(true);
    expect(await a.current(name)).toBeUndefined();
    expect(await b.acquire(name, 'instance-b', t0 + 2, TTL)).toBe(true);
  });

  it('Lease: held while renewed, lapses when not renewed in time, given back on stop', async () => {
    const clock = manualClock(4_000_000);
    const one = new Lease(a, name, 'instance-a', clock.now, silent, TTL);
    const two = new Lease(b, name, 'instance-b', clock.now, silent, TTL);
    expect(await one.refresh()).toBe(true);
    expect(await two.refresh()).toBe(false);
    expect([one.held, two.held]).toEqual([true, false]);

    clock.advance(TTL - 1);
    expect(await one.refresh()).toBe(true); // renewed just in time
    clock.advance(TTL - 1);
    expect(await two.refresh()).toBe(false);
    expect(one.held).toBe(true);

    // `one` stops renewing (a process frozen or cut off): it knows when its claim ends.
    clock.advance(1);
    expect(one.held).toBe(false);
    expect(await two.refresh()).toBe(true);
    expect(await one.refresh()).toBe(false);

    await two.stop();
    expect(two.held).toBe(false);
    expect(await a.current(name)).toBeUndefined();
    expect(await one.refresh()).toBe(true);
    await one.stop();
  });
});
