import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { NewTrackedJobRow } from '../../src/store/schema.js';
import { TrackedJobsRepo } from '../../src/store/tracked-jobs-repo.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';

/** Followed batches and background responses: the same contract on SQLite and PostgreSQL. */
describe.each(DIALECTS)('tracked jobs on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let dbA: Db;
  let dbB: Db;
  let a: TrackedJobsRepo;
  let b: TrackedJobsRepo;
  let n = 0;
  let id: string;

  const row = (over: Partial<NewTrackedJobRow> = {}): NewTrackedJobRow => ({
    id,
    kind: 'batch',
    token_id: 'tok',
    project_id: 'proj',
    upstream_key_id: 'key',
    endpoint: '/v1/chat/completions',
    state: 'pending',
    upstream_status: 'validating',
    next_poll_at: 1_000,
    deadline_at: 100_000,
    created_at: 1,
    updated_at: 1,
    ...over,
  });

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    dbA = openDatabase(tdb.config);
    await migrateToLatest(dbA);
    dbB = openDatabase(tdb.config);
    a = new TrackedJobsRepo(dbA);
    b = new TrackedJobsRepo(dbB);
  });
  afterAll(async () => {
    await dbA?.destroy();
    await dbB?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
    id = `batch_${++n}_${Date.now()}`;
  });

  it('inserts once: the same id again keeps the first row', async () => {
    expect(await a.insert(row())).toBe(true);
    expect(await b.insert(row({ token_id: 'other' }))).toBe(false);
    expect((await a.get(id))?.token_id).toBe('tok');
  });

  it('lists due pending jobs; reschedule counts attempts and moves the next poll; pollNow brings it forward', async () => {
    await a.insert(row({ next_poll_at: 5_000_000_000_000 }));
    expect((await a.due(5_000_000_000_000 - 1, 1000)).map((r) => r.id)).not.toContain(id);
    await a.pollNow(id, 5_000_000_000_000 - 10);
    expect((await a.due(5_000_000_000_000 - 1, 1000)).map((r) => r.id)).toContain(id);
    await a.reschedule(id, { nextPollAt: 6_000_000_000_000, upstreamStatus: 'in_progress', error: null, now: 2 });
    const got = await a.get(id);
    expect(got).toMatchObject({ attempts: 1, upstream_status: 'in_progress' });
    expect(Number(got?.next_poll_at)).toBe(6_000_000_000_000);
  });

  it('of two claims at once exactly one wins, however often they race; done and drop end it', async () => {
    for (let round = 0; round < 10; round++) {
      const jobId = `${id}-${round}`;
      await a.insert(row({ id: jobId }));
      const won = await Promise.all([a.claim(jobId, 'completed', 10), b.claim(jobId, 'completed', 11)]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await a.claim(jobId, 'completed', 12)).toBe(false);
      const claimed = await b.get(jobId);
      expect(claimed?.state).toBe('recording');
      await a.done(jobId, 3, 1234, 20);
      expect(await a.get(jobId)).toMatchObject({ state: 'done', records: 3 });
      expect(Number((await a.get(jobId))?.cost_nano_usd)).toBe(1234);
    }
    await a.insert(row());
    await a.drop(id, 'project_deleted', 'in_progress', 5);
    expect(await a.get(id)).toMatchObject({ state: 'dropped', error: 'project_deleted' });
    expect(await a.claim(id, 'completed', 6)).toBe(false);
  });

  it('a stalled recording is retaken by one caller only', async () => {
    await a.insert(row());
    expect(await a.claim(id, 'completed', 100)).toBe(true);
    const stalled = (await a.stalled(200, 1000)).find((r) => r.id === id);
    expect(stalled).toBeDefined();
    const seen = Number(stalled?.updated_at);
    const won = await Promise.all([a.retake(id, seen, 300), b.retake(id, seen, 301)]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(Number((await a.get(id))?.recorded_at)).toBe(100);
  });

  it('counts by state and lists by project', async () => {
    await a.insert(row({ project_id: `p-${id}` }));
    const counts = await a.countByState();
    expect(counts.pending).toBeGreaterThan(0);
    expect((await a.list({ projectId: `p-${id}` }, 10)).map((r) => r.id)).toEqual([id]);
  });
});
