import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { NewUsageRow } from '../store/schema.js';
import { isSegmentFile } from './journal.js';
import { emptyContents, parseSegment, unfinishedRecord } from './journal-format.js';

export interface ReplayReport {
  segments: number;
  /** Records found: finished ones and unfinished ones (admitted, never finished). */
  records: number;
  unfinished: number;
  /** Records the store did not have yet (the others were written before the stop). */
  inserted: number;
  badLines: number;
}

const CHUNK = 500;

/**
 * Start-up, before the server listens: writes every record the journal segments in `dir` hold
 * (left by a crash, or by a stop that could not reach the store) and deletes the segments once
 * the store has them. `write` is idempotent by record id, so records that did reach the store
 * before the stop are not counted again, and a replay interrupted half way can simply run again.
 * A store failure fails the start and keeps the segments.
 */
export async function replayJournal(
  dir: string,
  write: (rows: NewUsageRow[]) => Promise<number>,
  logger: Logger,
): Promise<ReplayReport> {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter(isSegmentFile).sort() : [];
  const report: ReplayReport = { segments: files.length, records: 0, unfinished: 0, inserted: 0, badLines: 0 };
  if (files.length === 0) return report;

  const contents = emptyContents();
  for (const f of files) parseSegment(fs.readFileSync(path.join(dir, f), 'utf8'), contents);
  const rows = [...contents.finished.values()];
  for (const [id, a] of contents.admitted) {
    if (!contents.finished.has(id)) rows.push(unfinishedRecord(a));
  }
  report.records = rows.length;
  report.unfinished = rows.length - contents.finished.size;
  report.badLines = contents.badLines;
  for (let i = 0; i < rows.length; i += CHUNK) report.inserted += await write(rows.slice(i, i + CHUNK));
  for (const f of files) fs.rmSync(path.join(dir, f), { force: true });

  const level = report.unfinished > 0 || report.badLines > 0 || report.inserted > 0 ? 'warn' : 'info';
  logger[level](
    {
      segments: report.segments,
      records: report.records,
      unfinished: report.unfinished,
      inserted: report.inserted,
      bad_lines: report.badLines,
    },
    'usage journal replayed',
  );
  return report;
}
