import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqliteDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { projectRow, tokenRow, usageRecord } from '../../test/helpers/rows.js';
import { uuidv7 } from '../crypto/ids.js';
import { createLogger } from '../observability/logger.js';
import { type Db, openDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { toUsageRow, type UsageRecord } from '../store/usage-record.js';
import { UsageRepo } from '../store/usage-repo.js';
import { toBatch } from './batch.js';
import { UsageJournal } from './journal.js';
import type { AdmittedUsage } from './journal-format.js';
import { replayJournal } from './journal-replay.js';
import type { UsageSink } from './usage-sink.js';
import { UsageWriter, type UsageWriterOptions } from './usage-writer.js';

let tdb: TestDatabase;
let db: Db;
let repo: UsageRepo;
const PROJECT = uuidv7();
const TOKEN = uuidv7();

beforeAll(async () => {
  tdb = sqliteDatabase();
  db = openDatabase(tdb.config);
  await migrateToLatest(db);
  await db
    .insertInto('projects')
    .values(projectRow({ id: PROJECT }))
    .execute();
  await db
    .insertInto('tokens')
    .values(tokenRow(PROJECT, { id: TOKEN }))
    .execute();
  repo = new UsageRepo(db);
});
afterAll(async () => {
  await db.destroy();
  await tdb.drop();
});

const open: UsageWriter[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * The store as the runtime writes it without a worker (UsageRepo.writeBatch on real SQLite), with
 * the batches it was given recorded and an outage switch: while `down`, a write fails as SQLite
 * does when it cannot take the lock.
 */
function storeSink() {
  const sink: UsageSink & { down: boolean; batches: string[][]; closed: number } = {
    down: false,
    batches: [],
    closed: 0,
    async write(records: UsageRecord[]) {
      if (sink.down) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      sink.batches.push(records.map((r) => r.id));
      return repo.writeBatch(toBatch(records.map(toUsageRow)));
    },
    async close() {
      sink.closed++;
    },
  };
  return sink;
}

/** Log lines as objects (pino writes to the stream synchronously). */
function capture() {
  const lines: Array<{ level: string; msg: string; [k: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', stream }), lines, msgs: () => lines.map((l) => l.msg) };
}

function writer(sink: UsageSink, opts: Partial<UsageWriterOptions> = {}, journal?: UsageJournal) {
  const log = capture();
  const w = new UsageWriter(
    sink,
    log.logger,
    { flushIntervalMs: 60_000, batchSize: 100, queueLimit: 1000, ...opts },
    journal,
  );
  open.push(w);
  return { w, ...log };
}

const rec = (): UsageRecord => usageRecord(TOKEN, PROJECT);
const recs = (n: number) => Array.from({ length: n }, rec);
const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

async function stored(want: string[]): Promise<string[]> {
  const rows = await db.selectFrom('usage_records').select('id').where('id', 'in', want).orderBy('id').execute();
  return rows.map((r) => r.id);
}

describe('UsageWriter', () => {
  it('flushes on its own once a batch is full, not before', async () => {
    const sink = storeSink();
    const { w } = writer(sink, { batchSize: 3 });
    const rows = recs(4);
    for (const r of rows.slice(0, 2)) w.record(r);
    await nextTurn();
    expect(sink.batches).toEqual([]);
    w.record(rows[2] as UsageRecord);
    await vi.waitFor(() => expect(w.written).toBe(3));
    w.record(rows[3] as UsageRecord);
    await nextTurn();
    expect(w.pending).toBe(1);
    await w.flush();
    expect(sink.batches).toEqual([ids(rows.slice(0, 3)), ids(rows.slice(3))]);
    expect(await stored(ids(rows))).toEqual(ids(rows));
  });

  it('flushes what is queued on the timer', async () => {
    const sink = storeSink();
    const { w } = writer(sink, { flushIntervalMs: 10 });
    const r = rec();
    w.record(r);
    expect(w.pending).toBe(1);
    await vi.waitFor(() => expect(w.written).toBe(1));
    expect(await stored([r.id])).toEqual([r.id]);
  });

  it('keeps a failed batch queued and retries it: order kept, nothing lost or doubled', async () => {
    const sink = storeSink();
    const { w, msgs, lines } = writer(sink, { batchSize: 2 });
    const rows = recs(5);
    sink.down = true;
    for (const r of rows.slice(0, 3)) w.record(r);
    await w.flush();
    await w.flush();
    await w.flush();
    expect(w.pending).toBe(3);
    expect(w.health().failing).toMatch(/SQLITE_BUSY/);
    // One line for the outage, not one per attempt.
    expect(msgs().filter((m) => m === 'usage write failed; will retry')).toHaveLength(1);
    sink.down = false;
    for (const r of rows.slice(3)) w.record(r); // a full batch again: the retry starts on its own
    await w.flush();
    expect(sink.batches).toEqual([ids(rows.slice(0, 2)), ids(rows.slice(2, 4)), ids(rows.slice(4))]);
    expect(w.health()).toMatchObject({ failing: undefined, pending: 0 });
    expect(w.written).toBe(5);
    expect(lines.find((l) => l.msg === 'usage writes recovered')).toMatchObject({ afterFailures: 3 });
    expect(await stored(ids(rows))).toEqual(ids(rows));
  });

  it('past queueLimit drops the oldest records, counts them and says so', async () => {
    const sink = storeSink();
    const { w, lines } = writer(sink, { queueLimit: 5 });
    sink.down = true;
    const rows = recs(8);
    for (const r of rows) w.record(r);
    expect(w.pending).toBe(5);
    expect(w.dropped).toBe(3);
    expect(lines.filter((l) => l.msg === 'usage queue full: dropped oldest records')).toHaveLength(3);
    expect(lines.at(-1)).toMatchObject({ level: 'error', dropped: 1, queueLimit: 5 });
    sink.down = false;
    await w.flush();
    expect(sink.batches.flat()).toEqual(ids(rows.slice(3)));
  });

  it('close() writes everything queued, stops the timer and closes the sink', async () => {
    const sink = storeSink();
    const { w, msgs } = writer(sink, { flushIntervalMs: 10 });
    const rows = recs(4);
    for (const r of rows) w.record(r);
    await w.close();
    expect(sink.closed).toBe(1);
    expect(await stored(ids(rows))).toEqual(ids(rows));
    expect(msgs()).not.toContain('usage records could not be written before shutdown');
  });

  it('close() with the store down says what was not written', async () => {
    const sink = storeSink();
    const { w, lines } = writer(sink);
    sink.down = true;
    for (const r of recs(2)) w.record(r);
    await w.close();
    expect(lines.at(-1)).toMatchObject({
      level: 'error',
      msg: 'usage records could not be written before shutdown',
      unwritten: 2,
      journaled: false,
    });
    expect(sink.closed).toBe(1);
  });

  it('refuses a record after close with a log line naming its request', async () => {
    const sink = storeSink();
    const { w, lines } = writer(sink);
    await w.close();
    const late = rec();
    w.record(late);
    expect(w.pending).toBe(0);
    await w.flush();
    expect(sink.batches).toEqual([]);
    expect(lines.at(-1)).toMatchObject({
      level: 'error',
      msg: 'usage record arrived after shutdown: not written',
      request_id: late.id,
    });
  });

  it('without a journal: admitted() dispatches at once and returns no segment', () => {
    const { w } = writer(storeSink());
    const go = vi.fn();
    expect(w.admitted(admission(rec()), go)).toBeUndefined();
    expect(go).toHaveBeenCalledOnce();
    expect(w.health().journaled).toBe(false);
  });

  describe('with a journal (real segments in a temp dir)', () => {
    function journal(opts: { tickMs?: number; rotateBytes?: number } = {}) {
      const dir = path.join(mkdtempSync(path.join(tmpdir(), 'llmp-writer-')), 'journal');
      dirs.push(path.dirname(dir));
      return { dir, j: new UsageJournal({ dir, fsyncMs: 0, logger: createLogger({ level: 'silent' }), ...opts }) };
    }
    const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    const replayed = async (dir: string) => {
      const got: string[] = [];
      await replayJournal(dir, async (rows) => got.push(...ids(rows)), createLogger({ level: 'silent' }));
      return got.sort();
    };

    it('dispatches after the admitted line is written; a clean close leaves nothing to replay', async () => {
      const { dir, j } = journal();
      const sink = storeSink();
      const { w } = writer(sink, {}, j);
      const r = rec();
      const go = vi.fn();
      const seg = w.admitted(admission(r), go);
      expect(seg).toBeDefined();
      expect(go).not.toHaveBeenCalled();
      await nextTurn();
      expect(go).toHaveBeenCalledOnce();
      w.record(r, seg);
      await w.close();
      expect(await stored([r.id])).toEqual([r.id]);
      expect(segments(dir)).toEqual([]);
    });

    it('records that left memory are written from the journal once the store is back, each once', async () => {
      const { dir, j } = journal({ tickMs: 5, rotateBytes: 1 });
      const sink = storeSink();
      const { w, lines } = writer(sink, { queueLimit: 2 }, j);
      sink.down = true;
      const early = recs(4);
      for (const r of early) proxied(w, r);
      await w.flush();
      expect(w).toMatchObject({ dropped: 2, pending: 2 });
      expect(w.health().spilled).toBe(2);
      // The segment holding them is rotated meanwhile; it must stay until the store has them.
      await vi.waitFor(() => expect(j.segmentCount).toBe(2));
      const late = recs(3); // one more leaves memory
      for (const r of late) proxied(w, r);
      expect(w.health().spilled).toBe(5);
      sink.down = false;
      await w.flush();
      const all = ids([...early, ...late]);
      expect(await stored(all)).toEqual([...all].sort());
      expect(w).toMatchObject({ pending: 0, written: 2, recovered: 5 });
      expect(w.health()).toMatchObject({ failing: undefined, spilled: 0 });
      expect(
        lines.find((l) => l.msg === 'usage records that had left memory were written from the journal'),
      ).toMatchObject({ records: 5 });
      // Read back exactly: the two written from memory were not sent again.
      expect(sink.batches.flat().sort()).toEqual([...all].sort());
      // Everything is stored, so the journal lets its segments go; nothing is left to replay.
      await vi.waitFor(() => expect(segments(dir)).toHaveLength(1));
      await w.close();
      expect(await replayed(dir)).toEqual([]);
    });

    it('a record that leaves memory while its batch is being written is not lost nor written twice', async () => {
      const { dir, j } = journal();
      const sink = storeSink();
      let release: (() => void) | undefined;
      const gated: UsageSink = {
        write: async (records) => {
          if (!release) await new Promise<void>((r) => (release = r));
          return sink.write(records);
        },
        close: () => sink.close(),
      };
      const { w } = writer(gated, { queueLimit: 2, batchSize: 2 }, j);
      const rows = recs(5);
      proxied(w, rows[0] as UsageRecord);
      proxied(w, rows[1] as UsageRecord); // a full batch: its write starts and waits
      await vi.waitFor(() => expect(release).toBeDefined());
      // Three more while it is out: 0, 1 and 2 leave memory (0 and 1 are in the write).
      for (const r of rows.slice(2)) proxied(w, r);
      expect(w).toMatchObject({ dropped: 3, pending: 2 });
      release?.();
      await w.flush();
      await w.flush();
      expect(await stored(ids(rows))).toEqual(ids(rows).sort());
      expect(sink.batches.flat().sort()).toEqual(ids(rows).sort());
      expect(w.health()).toMatchObject({ pending: 0, spilled: 0 });
      await w.close();
      expect(await replayed(dir)).toEqual([]);
    });
  });
});

/** What the proxy does per request: journal the admission, dispatch, then record the outcome. */
function proxied(w: UsageWriter, r: UsageRecord): void {
  w.record(
    r,
    w.admitted(admission(r), () => {}),
  );
}

function admission(r: UsageRecord): AdmittedUsage {
  return {
    id: r.id,
    tokenId: r.tokenId,
    projectId: r.projectId,
    method: r.method,
    path: r.path,
    model: r.model ?? null,
    estimatedTokens: 10,
    estimatedCostNanoUsd: 0,
    at: r.createdAt,
  };
}
