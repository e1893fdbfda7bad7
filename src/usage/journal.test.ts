import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { usageRecord } from '../../test/helpers/rows.js';
import { createLogger } from '../observability/logger.js';
import { toUsageRow, type UsageRecord } from '../store/usage-record.js';
import { UsageJournal } from './journal.js';
import {
  type AdmittedUsage,
  admittedLine,
  emptyContents,
  finishedLine,
  parseSegment,
  RECORD_FIELDS,
} from './journal-format.js';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'llmp-jrnl-'));
  dirs.push(d);
  return path.join(d, 'journal');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const admission = (i: number): AdmittedUsage => ({
  id: `req-${i}`,
  tokenId: 'tok',
  projectId: 'proj',
  method: 'POST',
  path: '/v1/embeddings',
  model: null,
  estimatedTokens: 3,
  estimatedCostNanoUsd: 0,
  at: 1_700_000_000_000 + i,
});
const record = (i: number): UsageRecord =>
  usageRecord('tok', 'proj', { id: `req-${i}`, createdAt: 1_700_000_000_000 + i, usageStatus: 'missing' });

/** Polls until `check` holds, however long a busy machine takes (the test's time limit catches a hang). */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await sleep(5);
}

const dispatch = () => {};
/** The record's row values in the journal's column order. */
const usageColumnValues = (r: UsageRecord) => {
  const row = toUsageRow(r);
  return RECORD_FIELDS.map((c) => row[c] ?? null);
};

describe('usage journal', () => {
  it('keeps a segment while a request admitted in it is in flight or a record in it is not stored', async () => {
    const dir = fresh();
    const j = new UsageJournal({ dir, fsyncMs: 1, logger, tickMs: 2, rotateMs: 0 });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [first] = readdirSync(dir);
    expect(statSync(path.join(dir, first as string)).mode & 0o777).toBe(0o600);

    const m0 = j.admitted(admission(0), dispatch);
    const m1 = j.admitted(admission(1), dispatch);
    await waitFor(() => j.segmentCount === 2); // rotated: the admissions' segment waits
    j.finished(record(0), m0);
    j.storedThrough(1);
    await sleep(20);
    expect(readdirSync(dir)).toContain(first); // request 1 is still in flight
    j.finished(record(1), m1);
    // Both admissions have their finished lines (in the next segment): the first segment can go.
    await waitFor(() => !readdirSync(dir).includes(first as string));
    // The segment holding record 1's line rotates, and stays until the store has that record.
    await waitFor(() => j.segmentCount === 2);
    await sleep(20);
    expect(readdirSync(dir)).toHaveLength(2);
    j.storedThrough(2);
    await waitFor(() => readdirSync(dir).length === 1);
    j.close();
    expect(readdirSync(dir)).toEqual([]); // everything stored: a clean stop leaves nothing
  });

  it('keeps the segments of records the store does not have yet, for the next start', async () => {
    const dir = fresh();
    const j = new UsageJournal({ dir, fsyncMs: 0, logger, tickMs: 2, rotateMs: 0 });
    j.finished(record(0), j.admitted(admission(0), dispatch));
    j.finished(record(1), j.admitted(admission(1), dispatch));
    j.storedThrough(1); // record 1 is not stored
    j.close();
    const contents = emptyContents();
    for (const f of readdirSync(dir)) parseSegment(readFileSync(path.join(dir, f), 'utf8'), contents);
    expect([...contents.finished.keys()]).toEqual(['req-0', 'req-1']);
  });

  it('reads records back by their number across segments, the one being written included', async () => {
    const dir = fresh();
    const j = new UsageJournal({ dir, fsyncMs: 0, logger, tickMs: 2, rotateMs: 0 });
    for (let i = 0; i < 3; i++) j.finished(record(i), j.admitted(admission(i), dispatch));
    await waitFor(() => j.segmentCount === 2); // 0..2 in a rotated segment
    for (let i = 3; i < 6; i++) j.finished(record(i), j.admitted(admission(i), dispatch));
    const read = async (from: number, to: number) => {
      const got: UsageRecord[] = [];
      for await (const recs of j.finishedBetween(from, to)) got.push(...recs);
      return got;
    };
    expect((await read(1, 5)).map((r) => r.id)).toEqual(['req-1', 'req-2', 'req-3', 'req-4']);
    // The record as it went in, every field.
    expect(await read(4, 5)).toEqual([record(4)]);
    j.close();
  });

  it('reads back every record of a segment that lost lines (a failed write): the store skips what it has', async () => {
    const dir = fresh();
    const j = new UsageJournal({ dir, fsyncMs: 0, logger, tickMs: 1000, rotateMs: 0 });
    for (let i = 0; i < 4; i++) j.finished(record(i), j.admitted(admission(i), dispatch));
    await new Promise((resolve) => setImmediate(resolve));
    // Take record 1's line out of the file, as a write the disk refused would have.
    const file = path.join(dir, readdirSync(dir)[0] as string);
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !(l.startsWith('["f"') && l.includes('"req-1"')));
    writeFileSync(file, kept.join('\n'));
    const got: string[] = [];
    for await (const recs of j.finishedBetween(2, 3)) got.push(...recs.map((r) => r.id));
    expect(got).toEqual(['req-0', 'req-2', 'req-3']);
    j.close();
  });

  it('dispatches an admitted request only once its line is in the file, with one write for the turn', async () => {
    const dir = fresh();
    const j = new UsageJournal({ dir, fsyncMs: 0, logger });
    const file = path.join(dir, readdirSync(dir)[0] as string);
    const seen: string[] = [];
    const go = (id: string) => () =>
      seen.push(readFileSync(file, 'utf8').includes(`"${id}"`) ? id : `${id} not written`);
    j.admitted(admission(1), go('req-1'));
    j.admitted(admission(2), go('req-2'));
    expect(seen).toEqual([]); // nothing is dispatched before the turn's write
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['req-1', 'req-2']);
    j.close();
  });

  it('reads back every field, and skips lines torn by an OS crash', () => {
    const dir = fresh();
    const j = new UsageJournal({ dir, fsyncMs: 0, logger });
    j.admitted(admission(1), dispatch);
    j.admitted(admission(2), dispatch);
    j.finished(record(2), undefined);
    j.close();
    const [file] = readdirSync(dir);
    appendFileSync(path.join(dir, file as string), '["f","req-3","req-3","tok","pr'); // cut mid-line
    const contents = emptyContents();
    parseSegment(readFileSync(path.join(dir, file as string), 'utf8'), contents);
    expect(contents.badLines).toBe(1);
    expect(contents.admitted.get('req-1')).toEqual(admission(1));
    expect(contents.finished.get('req-2')).toEqual(toUsageRow(record(2)));
    // Every field goes through the line format: distinct values, so a swapped column shows.
    const values = usageColumnValues(record(9));
    const full = Object.fromEntries(
      RECORD_FIELDS.map((f, i) => [f, typeof values[i] === 'string' || values[i] === null ? `v${i}` : i]),
    );
    full.request_id = full.id as string;
    const back = emptyContents();
    parseSegment(`["f",${JSON.stringify(RECORD_FIELDS.map((f) => full[f])).slice(1)}\n`, back);
    expect(back.finished.get(full.id as string)).toEqual(full);
    expect(finishedLine(record(9))).toBe(`["f",${JSON.stringify(Object.values(toUsageRow(record(9)))).slice(1)}\n`);
  });

  it('writes lines exactly as JSON.stringify would, whatever the strings and numbers from outside', () => {
    const hostile = ['', '"', '\\', '\n\r\t\u0000\u001f\u007f', '\u2028\u2029', '\ud800', 'é中😀', '"],["f"'];
    const odd = [0, -0, 1.5, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, -1];
    for (let i = 0; i < hostile.length * odd.length; i++) {
      const text = hostile[i % hostile.length] as string;
      const n = odd[i % odd.length] as number;
      const rec = usageRecord('tok', 'proj', {
        id: `req-${i}`,
        path: `/v1/${text}`,
        model: i % 3 === 0 ? null : text,
        finishReason: i % 2 ? text : null,
        error: i % 4 === 1 ? text : null,
        promptTokens: n,
        durationMs: n,
        costNanoUsd: i % 5 ? n : null,
        stream: i % 2 === 0,
      });
      expect(finishedLine(rec)).toBe(`${JSON.stringify(['f', ...usageColumnValues(rec)])}\n`);
      const a = {
        ...admission(i),
        path: `/v1/${text}`,
        model: i % 3 ? text : null,
        estimatedTokens: n,
        estimatedCostNanoUsd: n,
      };
      const { id, tokenId, projectId, method, path: p, model, estimatedTokens, estimatedCostNanoUsd, at } = a;
      expect(admittedLine(a)).toBe(
        `${JSON.stringify(['a', id, tokenId, projectId, method, p, model, estimatedTokens, estimatedCostNanoUsd, at])}\n`,
      );
    }
  });
});
