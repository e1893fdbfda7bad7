import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { PricingRepo } from '../../src/store/pricing-repo.js';
import { ProjectsRepo } from '../../src/store/projects-repo.js';
import type { NewTokenRow, NewUsageRow } from '../../src/store/schema.js';
import { HOUR } from '../../src/store/schema.js';
import { TokensRepo } from '../../src/store/tokens-repo.js';
import { UsageRepo } from '../../src/store/usage-repo.js';
import {
  type RollupSums,
  type StatsFilter,
  type StatsGroup,
  UsageStatsRepo,
} from '../../src/store/usage-stats-repo.js';
import { toBatch } from '../../src/usage/batch.js';
import { latencyBucket } from '../../src/usage/latency-buckets.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { tokenRow as baseTokenRow, projectRow, usageRow } from '../helpers/rows.js';
import { recomputeFromRecords } from '../helpers/usage-recompute.js';

const T0 = Date.UTC(2026, 10, 20, 0, 0, 0); // a Friday, 00:00 UTC
const DAY = 24 * HOUR;
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'o3', 'text-embedding-3-small', null] as const;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Tokens created at T0, like the projects. */
const tokenRow = (projectId: string, over: Partial<NewTokenRow> = {}): NewTokenRow =>
  baseTokenRow(projectId, { created_at: T0, updated_at: T0, ...over });

function expectSame(actual: Map<string, RollupSums>, expected: Map<string, Record<string, number>>) {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, exp] of expected) {
    const act = actual.get(k) as unknown as Record<string, number>;
    for (const [c, v] of Object.entries(exp)) {
      if (c === 'duration_ms_sum') expect(act[c], `${k} ${c}`).toBeCloseTo(v, 3);
      else expect(act[c], `${k} ${c}`).toBe(v);
    }
  }
}

/** The statistics, pricing and bulk-token queries, run against SQLite and PostgreSQL alike. */
describe.each(DIALECTS)('usage statistics, pricing and bulk tokens on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let db: Db;
  let stats: UsageStatsRepo;
  let tokens: TokensRepo;
  let projectA: string;
  let projectB: string;
  let tokenIds: string[];
  const rows: NewUsageRow[] = [];

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    db = openDatabase(tdb.config);
    await migrateToLatest(db);
    stats = new UsageStatsRepo(db);
    tokens = new TokensRepo(db);
    const projects = new ProjectsRepo(db);
    const project = async (name: string) =>
      (await projects.insert(projectRow({ name, created_at: T0, updated_at: T0 }))).id;
    projectA = await project('stats-a');
    projectB = await project('stats-b');
    tokenIds = [];
    for (const [i, p] of [projectA, projectA, projectB].entries()) {
      tokenIds.push((await tokens.insert(tokenRow(p, { name: `stats-${i}` }))).id);
    }
    // A token that no longer exists still has usage (no foreign keys on usage).
    const ghost = uuidv7();

    // Thousands of random requests over three days, written the way the usage writer writes them.
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
    for (let i = 0; i < 4000; i++) {
      const tokenIndex = Math.floor(rand() * 4);
      const tokenId = tokenIndex === 3 ? ghost : (tokenIds[tokenIndex] as string);
      const projectId = tokenIndex === 2 ? projectB : projectA;
      const status = rand() < 0.1 ? pick([400, 429, 500, 502]) : 200;
      const usage = status === 200 ? pick(['reported', 'reported', 'reported', 'estimated', 'missing']) : 'missing';
      const prompt = usage === 'missing' ? null : Math.floor(rand() * 5000);
      const completion = usage === 'missing' ? null : Math.floor(rand() * 2000);
      const model = pick(MODELS);
      rows.push({
        id: uuidv7(),
        request_id: `req-${i}`,
        token_id: tokenId,
        project_id: projectId,
        method: 'POST',
        path: '/v1/chat/completions',
        model,
        status,
        is_stream: i % 2,
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt === null ? null : prompt + (completion ?? 0),
        cached_tokens: prompt === null ? null : Math.floor(prompt * rand() * 0.5),
        reasoning_tokens: completion === null || model !== 'o3' ? null : Math.floor(completion * rand()),
        finish_reason: status === 200 ? 'stop' : null,
        upstream_ms: rand() * 1000,
        ttfb_ms: rand() * 500,
        duration_ms: rand() < 0.02 ? 400_000 : rand() * 3000,
        bytes_in: Math.floor(rand() * 10_000),
        bytes_out: Math.floor(rand() * 50_000),
        error: status === 200 && rand() < 0.02 ? 'client went away' : null,
        cost_nano_usd: model === null || usage === 'missing' ? null : Math.floor(rand() * 100_000),
        usage_status: usage,
        created_at: T0 + Math.floor(rand() * 3 * DAY),
      });
    }
    const usage = new UsageRepo(db);
    for (let i = 0; i < rows.length; i += 500) await usage.writeBatch(toBatch(rows.slice(i, i + 500)));
  });
  afterAll(async () => {
    await db?.destroy();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  const asMap = (r: Awaited<ReturnType<UsageStatsRepo['sums']>>) =>
    new Map(r.map((x) => [String(x.key ?? ''), x.sums]));

  it('rollup sums equal a recomputation from raw records, for every grouping', async () => {
    for (const group of [undefined, 'hour', 'day', 'model', 'token', 'project'] as const) {
      expectSame(asMap(await stats.sums({}, group)), await recomputeFromRecords(db, {}, group));
    }
    const days = await stats.sums({}, 'day');
    expect(days.map((d) => d.key).sort()).toEqual([T0, T0 + DAY, T0 + 2 * DAY]);
    expect((await stats.sums({}, 'hour')).length).toBe(72);
    expect((await stats.sums({}))[0]?.sums.requests).toBe(4000);
    // A token's group names its project.
    const byToken = await stats.sums({}, 'token');
    expect(byToken.find((r) => r.key === tokenIds[2])?.project).toBe(projectB);
  });

  it('applies project, token, model and time filters (from inclusive, to exclusive, whole hours)', async () => {
    const filters: StatsFilter[] = [
      { projectId: projectA },
      { projectId: projectB, model: 'gpt-4o' },
      { tokenId: tokenIds[0] },
      { model: '' },
      { model: 'o3', from: T0 + 5 * HOUR, to: T0 + 29 * HOUR },
      { projectId: projectA, from: T0 + DAY },
      { to: T0 + 2 * HOUR },
    ];
    for (const f of filters) {
      for (const group of [undefined, 'hour', 'model', 'token'] as const) {
        expectSame(asMap(await stats.sums(f, group)), await recomputeFromRecords(db, f, group));
      }
    }
    expect(await stats.sums({ projectId: 'nope' })).toEqual([]);
    expect(await stats.sums({ from: T0 + 10 * DAY }, 'hour')).toEqual([]);
  });

  it('merges latency histograms per group that match the raw durations', async () => {
    for (const [f, group] of [
      [{}, undefined],
      [{ projectId: projectA }, 'model'],
      [{ from: T0 + DAY, to: T0 + 2 * DAY }, 'day'],
    ] as Array<[StatsFilter, StatsGroup | undefined]>) {
      const expected = new Map<string, number>();
      for (const r of rows) {
        if (f.projectId && r.project_id !== f.projectId) continue;
        if (f.from !== undefined && r.created_at < f.from) continue;
        if (f.to !== undefined && r.created_at >= f.to) continue;
        const k =
          group === 'model' ? (r.model ?? '') : group === 'day' ? String(r.created_at - (r.created_at % DAY)) : '';
        const key = `${k}|${latencyBucket(r.duration_ms)}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
      const actual = new Map(
        (await stats.latency(f, group)).map((l) => [`${l.key ?? ''}|${l.le}`, l.count] as [string, number]),
      );
      expect(actual).toEqual(expected);
    }
  });

  it('looks up token and project names', async () => {
    const names = await stats.tokenNames([...tokenIds, uuidv7()]);
    expect(names.get(tokenIds[1] as string)).toBe('stats-1');
    expect(names.size).toBe(3);
    expect((await stats.projectNames([projectA, projectB])).get(projectB)).toBe('stats-b');
  });

  it('stores, replaces and removes pricing overrides', async () => {
    const repo = new PricingRepo(db);
    await repo.upsert({ model: 'm-1', input: 1.5, cached_input: null, output: 3, reasoning: null, updated_at: 1 });
    const units = JSON.stringify({ per_image: { '1024x1024': { hd: 0.08 } }, audio_output: 80 });
    const replaced = await repo.upsert({
      model: 'm-1',
      input: 2,
      cached_input: 0.5,
      output: 4,
      reasoning: 8,
      units,
      updated_at: 2,
    });
    expect(replaced).toEqual({
      model: 'm-1',
      input: 2,
      cached_input: 0.5,
      output: 4,
      reasoning: 8,
      units,
      updated_at: 2,
    });
    expect((await repo.find('m-1'))?.units).toBe(units);
    await repo.upsert({ model: 'a-0', input: 0, cached_input: null, output: 0, reasoning: null, updated_at: 3 });
    expect((await repo.list()).map((r) => r.model)).toEqual(['a-0', 'm-1']);
    expect(await repo.delete('m-1')).toBe(true);
    expect(await repo.delete('m-1')).toBe(false);
    expect((await repo.list()).map((r) => r.model)).toEqual(['a-0']);
  });

  it('inserts tokens in bulk and revokes by filter, with exact prefixes and only active tokens', async () => {
    const inserted = await tokens.insertMany(
      Array.from({ length: 250 }, (_, i) => tokenRow(projectA, { name: `bulk_%-${String(i).padStart(3, '0')}` })),
    );
    expect(inserted).toHaveLength(250);
    await tokens.insert(tokenRow(projectA, { name: 'bulkX-other' })); // `_` and `%` are no wildcards
    await tokens.insert(tokenRow(projectB, { name: 'bulk_%-999' }));
    await tokens.insert(tokenRow(projectA, { name: 'BULK_%-lower' })); // case-sensitive

    // A failing row rolls the whole batch back.
    const dup = tokenRow(projectA, { token_hash: inserted[0]?.token_hash as string });
    await expect(tokens.insertMany([tokenRow(projectA, { name: 'rolled-back' }), dup])).rejects.toThrow();
    expect((await db.selectFrom('tokens').select('id').where('name', '=', 'rolled-back').execute()).length).toBe(0);

    const now = T0 + 10 * DAY;
    expect(
      (await tokens.revokeWhere({ ids: [inserted[0]?.id as string, inserted[1]?.id as string] }, now)).length,
    ).toBe(2);
    const revoked = await tokens.revokeWhere({ projectId: projectA, namePrefix: 'bulk_%-' }, now);
    expect(revoked).toHaveLength(248); // the two above were no longer active
    expect(await tokens.revokeWhere({ projectId: projectA, namePrefix: 'bulk_%-' }, now + 1)).toEqual([]);
    expect((await tokens.findById(inserted[5]?.id as string))?.revoked_at).toBe(now);
    expect((await tokens.findById(inserted[0]?.id as string))?.revoked_at).toBe(now);
    expect(await tokens.revokeWhere({ ids: [] }, now)).toEqual([]);

    const soon = await tokens.insert(tokenRow(projectB, { expires_at: now - 1 }));
    const later = await tokens.insert(tokenRow(projectB, { expires_at: now + DAY }));
    expect(await tokens.revokeWhere({ projectId: projectB, expiredAt: now }, now)).toEqual([soon.id]);
    expect((await tokens.findById(later.id))?.is_active).toBe(1);
  });

  it('deactivates expired tokens (revoked_at stays null) and deletes long-ended ones, in batches', async () => {
    const now = T0 + 100 * DAY;
    const expired = await tokens.insertMany(
      Array.from({ length: 5 }, () => tokenRow(projectB, { expires_at: now - HOUR })),
    );
    const live = await tokens.insert(tokenRow(projectB, { expires_at: now + HOUR }));
    const first = await tokens.deactivateExpired(now, 3);
    const second = await tokens.deactivateExpired(now, 3);
    expect(first.length + second.length).toBeGreaterThanOrEqual(5);
    for (const t of expired) {
      expect(await tokens.findById(t.id)).toMatchObject({ is_active: 0, revoked_at: null, updated_at: now });
    }
    expect((await tokens.findById(live.id))?.is_active).toBe(1);
    expect(await tokens.deactivateExpired(now, 1000)).toEqual([]);

    const oldRevoked = await tokens.insert(tokenRow(projectB, { is_active: 0, revoked_at: now - 40 * DAY }));
    const oldExpired = await tokens.insert(tokenRow(projectB, { is_active: 0, expires_at: now - 40 * DAY }));
    const recentRevoked = await tokens.insert(tokenRow(projectB, { is_active: 0, revoked_at: now - DAY }));
    const neverEnds = await tokens.insert(tokenRow(projectB));
    const cutoff = now - 30 * DAY;
    const deleted: string[] = [];
    for (;;) {
      const ids = await tokens.deleteEndedBefore(cutoff, 1);
      deleted.push(...ids);
      if (ids.length < 1) break;
    }
    expect(deleted).toContain(oldRevoked.id);
    expect(deleted).toContain(oldExpired.id);
    expect(deleted).not.toContain(recentRevoked.id);
    expect(deleted).not.toContain(neverEnds.id);
    expect(deleted).not.toContain(live.id);
    expect(await tokens.findById(oldRevoked.id)).toBeUndefined();
    // Usage of deleted tokens stays: rollups have no foreign key.
    expect((await stats.sums({}))[0]?.sums.requests).toBe(4000);
  });

  // Last: it adds records of its own to the window the tests above count.
  it('counts as unpriced only a request that used a model without a price, never a failed or free one', async () => {
    const tokenId = uuidv7();
    const at = T0 + 60 * DAY;
    const row = (over: Partial<NewUsageRow>) => usageRow(tokenId, projectA, { created_at: at, ...over });
    const nothingUsed = { prompt_tokens: null, completion_tokens: null, total_tokens: null, cost_nano_usd: null };
    const batch = [
      row({ model: 'gpt-4o', cost_nano_usd: 42 }), // priced
      row({ model: 'llama-3-local', cost_nano_usd: null }), // reported usage, no price: unpriced
      row({ model: 'llama-3-local', usage_status: 'estimated', cost_nano_usd: null }), // a cut stream: unpriced
      row({ model: 'llama-3-local', status: 400, usage_status: 'missing', ...nothingUsed }), // failed: cost nothing
      row({ model: 'gpt-4o', status: 429, usage_status: 'missing', ...nothingUsed }), // refused upstream
      row({ model: 'gpt-4o', status: 502, error: 'upstream_unreachable', usage_status: 'missing', ...nothingUsed }),
      row({ method: 'GET', path: '/v1/models', model: null, usage_status: 'missing', ...nothingUsed }), // free
      // Cut by a crash: charged the admission's estimate, or unknown when the model has no price.
      row({ model: 'llama-3-local', status: 0, error: 'interrupted', usage_status: 'unfinished', ...nothingUsed }),
      row({
        method: 'GET',
        path: '/v1/models',
        model: null,
        status: 0,
        error: 'interrupted',
        usage_status: 'unfinished',
        ...nothingUsed,
      }),
    ];
    await new UsageRepo(db).writeBatch(toBatch(batch));
    const [sums] = await stats.sums({ tokenId });
    expect(sums?.sums).toMatchObject({ requests: 9, unpriced_requests: 3, cost_nano_usd: 42 });
    // The reference recomputation from the raw records agrees.
    expect((await recomputeFromRecords(db, { tokenId })).get('')).toMatchObject({ requests: 9, unpriced_requests: 3 });
  });
});
