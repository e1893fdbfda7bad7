import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { createLogger } from '../../src/observability/logger.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { NewUsageRow } from '../../src/store/schema.js';
import { toUsageRow, type UsageRecord } from '../../src/store/usage-record.js';
import { UsageRepo } from '../../src/store/usage-repo.js';
import { toBatch } from '../../src/usage/batch.js';
import { UsageJournal } from '../../src/usage/journal.js';
import { type AdmittedUsage, RECORD_FIELDS } from '../../src/usage/journal-format.js';
import { replayJournal } from '../../src/usage/journal-replay.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { until } from '../helpers/proxy.js';
import { insertProjectAndToken, usageRecord } from '../helpers/rows.js';

const logger = createLogger({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 26, 9, 30);

function admission(tokenId: string, projectId: string, i: number): AdmittedUsage {
  return {
    id: uuidv7(T0 + i),
    tokenId,
    projectId,
    method: 'POST',
    path: '/v1/chat/completions',
    model: 'gpt-4o-mini',
    estimatedTokens: 100,
    estimatedCostNanoUsd: 40 + i,
    at: T0 + i,
  };
}

function finished(a: AdmittedUsage): UsageRecord {
  return usageRecord(a.tokenId, a.projectId, {
    id: a.id,
    method: a.method,
    path: a.path,
    // Text that needs escaping survives the line format.
    model: 'gpt-4o-mini-"quoted"\\',
    stream: true,
    cachedTokens: 0,
    createdAt: a.at + 5,
  });
}

/** Replaying a journal is idempotent by record id on every dialect: no record is counted twice. */
describe.each(DIALECTS)('journal replay on %s', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let db: Db;
  let repo: UsageRepo;
  let projectId: string;
  let tokenId: string;
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'llmp-journal-'));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    db = openDatabase(tdb.config);
    await migrateToLatest(db);
    repo = new UsageRepo(db);
    ({ projectId, tokenId } = await insertProjectAndToken(db));
  });
  afterAll(async () => {
    await db?.destroy();
    await tdb?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });

  const counts = async () => {
    const token = await db.selectFrom('tokens').select('request_count').where('id', '=', tokenId).executeTakeFirst();
    const project = await db
      .selectFrom('projects')
      .select('request_count')
      .where('id', '=', projectId)
      .executeTakeFirst();
    const rollups = await sql<
      Record<string, unknown>
    >`select * from usage_rollups order by bucket_start, model`.execute(db);
    const latency = await sql<{ n: number | string }>`select sum(count) as n from usage_latency_rollups`.execute(db);
    const records = await sql<{ n: number | string }>`select count(*) as n from usage_records`.execute(db);
    return {
      token: token?.request_count,
      project: project?.request_count,
      records: Number(records.rows[0]?.n),
      latency: Number(latency.rows[0]?.n ?? 0),
      rollups: rollups.rows,
    };
  };

  it('writes finished and unfinished records once, however often the same journal is replayed', async () => {
    // A process that admitted eight requests, finished five, and died (close() without stored()
    // keeps every segment, like a crash). Rotation puts the lines in several segments.
    const live = dir();
    const journal = new UsageJournal({ dir: path.join(live, 'journal'), fsyncMs: 0, logger, rotateMs: 0, tickMs: 5 });
    const admitted = Array.from({ length: 8 }, (_, i) => admission(tokenId, projectId, i));
    const marks = admitted.map((a) => journal.admitted(a, () => {}));
    // The next tick rotates: the admissions stay in a segment of their own, the finished lines go to the next.
    await until(() => journal.segmentCount > 1);
    for (let i = 0; i < 5; i++) journal.finished(finished(admitted[i] as AdmittedUsage), marks[i]);
    journal.close();
    const segments = readdirSync(path.join(live, 'journal'));
    expect(segments.length).toBeGreaterThan(1);

    // Two of the finished records had reached the store before the crash.
    expect(await repo.writeBatch(toBatch(admitted.slice(0, 2).map((a) => toUsageRow(finished(a)))))).toBe(2);
    const copy = dir();
    cpSync(path.join(live, 'journal'), path.join(copy, 'journal'), { recursive: true });

    const write = (rows: NewUsageRow[]) => repo.writeBatch(toBatch(rows));
    const first = await replayJournal(path.join(live, 'journal'), write, logger);
    expect(first).toEqual({ segments: segments.length, records: 8, unfinished: 3, inserted: 6, badLines: 0 });
    expect(readdirSync(path.join(live, 'journal'))).toEqual([]);
    const after = await counts();
    expect(after).toMatchObject({ token: 8, project: 8, records: 8, latency: 8 });

    // The same segments again (a replay that crashed after writing but before deleting them).
    const second = await replayJournal(path.join(copy, 'journal'), write, logger);
    expect(second).toMatchObject({ records: 8, unfinished: 3, inserted: 0 });
    expect(await counts()).toEqual(after);

    const rows = await repo.listByToken(tokenId, 100);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(admitted[4]?.id as string)).toMatchObject({
      model: 'gpt-4o-mini-"quoted"\\',
      status: 200,
      usage_status: 'reported',
      ttfb_ms: 2.25,
      cost_nano_usd: 7,
    });
    for (const a of admitted.slice(5)) {
      expect(byId.get(a.id)).toMatchObject({
        status: 0,
        usage_status: 'unfinished',
        error: 'interrupted',
        model: 'gpt-4o-mini',
        cost_nano_usd: a.estimatedCostNanoUsd,
        created_at: a.at,
      });
    }
    // Unfinished records are errors and estimates in the rollups, and their reservation is spent.
    const sums = after.rollups.reduce<{ errors: number; estimated: number; cost: number }>(
      (acc, r) => ({
        errors: acc.errors + Number(r.errors),
        estimated: acc.estimated + Number(r.estimated_requests),
        cost: acc.cost + Number(r.cost_nano_usd),
      }),
      { errors: 0, estimated: 0, cost: 0 },
    );
    expect(sums).toEqual({ errors: 3, estimated: 3, cost: 5 * 7 + 45 + 46 + 47 });
    expect(await repo.spentSince('token', tokenId, 0)).toBe(5 * 7 + 45 + 46 + 47);
  });

  it('does not count a request twice when the journal lost its finished line and the store has the record', async () => {
    // Admitted in the last millisecond of a month, finished in the next: on partitioned PostgreSQL
    // the stored record and the one rebuilt from the admission line fall in different months.
    const at = Date.UTC(2026, 11, 1) - 1;
    const a = { ...admission(tokenId, projectId, 0), id: uuidv7(at), at };
    const stored = finished(a);
    expect(stored.createdAt).toBeGreaterThanOrEqual(Date.UTC(2026, 11, 1));
    expect(await repo.writeBatch(toBatch([toUsageRow(stored)]))).toBe(1);
    const before = await counts();

    // The finished line never reached the disk (an OS crash before fsync, a full disk): the
    // journal holds the admission only, as a crashed process leaves it.
    const live = dir();
    const journal = new UsageJournal({ dir: path.join(live, 'journal'), fsyncMs: 0, logger });
    journal.admitted(a, () => {});
    journal.close();
    const write = (rows: NewUsageRow[]) => repo.writeBatch(toBatch(rows));
    for (let i = 0; i < 2; i++) {
      const copy = dir();
      cpSync(path.join(live, 'journal'), path.join(copy, 'journal'), { recursive: true });
      expect(await replayJournal(path.join(copy, 'journal'), write, logger)).toMatchObject({
        records: 1,
        unfinished: 1,
        inserted: 0,
      });
      expect(await counts()).toEqual(before);
    }
    const kept = await sql<{ usage_status: string; created_at: number }>`
      select usage_status, created_at from usage_records where id = ${a.id}`.execute(db);
    expect(kept.rows).toEqual([{ usage_status: 'reported', created_at: stored.createdAt }]);
  });

  it('replays a segment written before money was counted in nano-dollars (journal version 1) × 1000', async () => {
    // What the previous version left on a crash just before the upgrade: its header names
    // cost_micro_usd, its admission lines carry the estimate in micro-dollars.
    const who = await insertProjectAndToken(db);
    const fields = RECORD_FIELDS.map((f) => (f === 'cost_nano_usd' ? 'cost_micro_usd' : f));
    const done = toUsageRow(usageRecord(who.tokenId, who.projectId, { costNanoUsd: null, createdAt: T0 + 9 }));
    const finishedLine = ['f', ...fields.map((f) => (f === 'cost_micro_usd' ? 7 : done[f as keyof NewUsageRow]))];
    const open = admission(who.tokenId, who.projectId, 0); // estimate 40 µ$ in that segment
    const segment = [
      ['v', 1, fields],
      ['a', done.id, who.tokenId, who.projectId, 'POST', '/v1/chat/completions', 'gpt-4o-mini', 100, 33, T0],
      finishedLine,
      ['a', open.id, who.tokenId, who.projectId, 'POST', '/v1/chat/completions', 'gpt-4o-mini', 100, 40, open.at],
    ];
    const live = dir();
    mkdirSync(path.join(live, 'journal'));
    writeFileSync(
      path.join(live, 'journal', 'usage-00000000000001.jsonl'),
      segment.map((l) => `${JSON.stringify(l)}\n`).join(''),
    );
    const write = (rows: NewUsageRow[]) => repo.writeBatch(toBatch(rows));
    expect(await replayJournal(path.join(live, 'journal'), write, logger)).toMatchObject({
      records: 2,
      unfinished: 1,
      inserted: 2,
      badLines: 0,
    });
    const rows = await sql<{ id: string; cost_nano_usd: number | string; usage_status: string }>`
      select id, cost_nano_usd, usage_status from usage_records where token_id = ${who.tokenId} order by id`.execute(
      db,
    );
    expect(rows.rows.map((r) => ({ ...r, cost_nano_usd: Number(r.cost_nano_usd) }))).toEqual(
      [
        { id: done.id, cost_nano_usd: 7000, usage_status: 'reported' },
        { id: open.id, cost_nano_usd: 40_000, usage_status: 'unfinished' },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    );
    expect(await repo.spentSince('token', who.tokenId, 0)).toBe(47_000);
  });
});
