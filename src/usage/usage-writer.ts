import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import { describeStoreFailure } from '../store/store-errors.js';
import type { UsageRecord } from '../store/usage-record.js';
import type { JournalSegment, UsageJournal } from './journal.js';
import type { AdmittedUsage } from './journal-format.js';
import type { UsageSink } from './usage-sink.js';

export type { UsageRecord } from '../store/usage-record.js';
export { unbilledRecord } from '../store/usage-record.js';

/** Record numbers [from, to). */
interface Range {
  from: number;
  to: number;
}

/** What `admitted()` returns and `record()` takes back: where the admission was journaled, if anywhere. */
export type UsageAdmission = JournalSegment | undefined;

/** The writer's state for readiness: `failing` is set while the last write attempt failed. */
export interface UsageWriterHealth {
  failing: string | undefined;
  /** How long the write in progress has been running (ms); 0 when none is. */
  writingForMs: number;
  journaled: boolean;
  journalFailing: string | undefined;
  pending: number;
  /** Records that left memory during an outage and wait in the journal to be written from it. */
  spilled: number;
}

export interface UsageWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  /**
   * Records held in memory while the database is unavailable; past this the oldest leave memory
   * (counted). With a journal they are read back from it once the database answers again.
   */
  queueLimit: number;
}

/**
 * Batched, asynchronous writer: the request path only pushes to an array (and, with a journal,
 * appends a line to it). A timer (or a full batch) flushes to the store in one transaction; on a
 * store failure the batch stays queued and is retried, so a database that goes away loses nothing
 * until the queue limit. Past it the oldest records leave memory; with the journal they are not
 * lost: once the store answers again they are read back from the journal's segments and written
 * (idempotent by id, so nothing is counted twice), and across a crash the next start replays what
 * the store never confirmed.
 *
 * Records are numbered in the order they reach `record()` (the journal's `finished` order): the
 * queue holds the numbers from `head` on, and what left memory is kept as ranges of numbers, so an
 * outage of any length costs a few numbers of memory, not a record each.
 */
export class UsageWriter {
  private queue: UsageRecord[] = [];
  private flushing: Promise<void> | undefined;
  private flushStarted = 0;
  private readonly timer: NodeJS.Timeout;
  private failures = 0;
  private lastFailure: string | undefined;
  private closed = false;
  /** The number of the record at the head of the queue. */
  private head = 0;
  /** Numbers [from, to) of records that left memory unwritten and are to be read back from the journal. */
  private readonly spilled: Range[] = [];
  /** Records that left memory unwritten (with a journal: for a while). */
  dropped = 0;
  written = 0;
  /** Records written from the journal after they had left memory (new to the store). */
  recovered = 0;
  /** Batches the store confirmed, and failed attempts that leave their batch queued for the next try. */
  batches = 0;
  retries = 0;

  constructor(
    private readonly sink: UsageSink,
    private readonly logger: Logger,
    private readonly opts: UsageWriterOptions,
    private readonly journal?: UsageJournal,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Hot path: journals the admission, then calls `go` (the dispatch; see UsageJournal.admitted). */
  admitted(a: AdmittedUsage, go: () => void): UsageAdmission {
    if (!this.journal) {
      go();
      return undefined;
    }
    return this.journal.admitted(a, go);
  }

  /** Hot path: O(1), never waits. `admission` is what `admitted()` returned for this request. */
  record(rec: UsageRecord, admission?: UsageAdmission): void {
    if (this.closed) {
      this.logger.error({ request_id: rec.id }, 'usage record arrived after shutdown: not written');
      return;
    }
    this.journal?.finished(rec, admission);
    this.queue.push(rec);
    if (this.queue.length > this.opts.queueLimit) {
      const excess = this.queue.length - this.opts.queueLimit;
      this.queue.splice(0, excess);
      this.spill(this.head, this.head + excess);
      this.head += excess;
      this.dropped += excess;
      this.logger.error(
        { dropped: excess, queueLimit: this.opts.queueLimit },
        'usage queue full: dropped oldest records',
      );
    }
    if (this.queue.length >= this.opts.batchSize && !this.flushing) void this.flush();
  }

  get pending(): number {
    return this.queue.length;
  }

  health(): UsageWriterHealth {
    return {
      failing: this.lastFailure,
      writingForMs: this.flushing ? performance.now() - this.flushStarted : 0,
      journaled: this.journal !== undefined,
      journalFailing: this.journal?.failure,
      pending: this.queue.length,
      spilled: this.spilledCount(),
    };
  }

  /** Writes everything queued so far; concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0 && this.spilled.length === 0) return Promise.resolve();
    this.flushStarted = performance.now();
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const from = this.head;
      const batch = this.queue.slice(0, this.opts.batchSize);
      try {
        await this.sink.write(batch);
      } catch (err) {
        this.failed(err);
        return;
      }
      this.succeeded();
      // The queue may have overflowed while the write was out: only what is still queued leaves it.
      const done = from + batch.length;
      if (done > this.head) {
        this.queue.splice(0, done - this.head);
        this.head = done;
      }
      this.written += batch.length;
      this.batches++;
      // Records spilled from this batch while it was being written are in the store now.
      for (const r of this.spilled) if (r.from >= from && r.from < done) r.from = Math.min(done, r.to);
      this.confirm();
    }
    await this.recover();
  }

  /** Writes the records that left memory, read back from the journal, now that the store answers. */
  private async recover(): Promise<void> {
    if (!this.journal || this.spilled.length === 0) return;
    let inserted = 0;
    while (this.spilled.length > 0) {
      const range = this.spilled[0] as Range;
      // The range may grow while it is read (a new overflow right after it): read what it is now.
      const to = range.to;
      try {
        for await (const records of this.journal.finishedBetween(range.from, to)) {
          for (let i = 0; i < records.length; i += this.opts.batchSize) {
            inserted += await this.sink.write(records.slice(i, i + this.opts.batchSize));
          }
        }
      } catch (err) {
        this.failed(err);
        return;
      }
      range.from = to;
      this.confirm();
    }
    this.recovered += inserted;
    this.logger.info({ records: inserted }, 'usage records that had left memory were written from the journal');
  }

  /** Adds [from, to) to the records to read back (with a journal; without one they are lost). */
  private spill(from: number, to: number): void {
    if (!this.journal) return;
    const last = this.spilled.at(-1);
    if (last && last.to === from) last.to = to;
    else this.spilled.push({ from, to });
  }

  /** Drops read-back ranges that are done, and tells the journal up to where the store has everything. */
  private confirm(): void {
    let first = this.spilled[0];
    while (first && first.from >= first.to) {
      this.spilled.shift();
      first = this.spilled[0];
    }
    this.journal?.storedThrough(first?.from ?? this.head);
  }

  private spilledCount(): number {
    return this.spilled.reduce((n, r) => n + (r.to - r.from), 0);
  }

  private failed(err: unknown): void {
    this.failures++;
    this.retries++;
    this.lastFailure = describeStoreFailure(err);
    // Log the first failure and then every 60th, not one line per tick while the database is down.
    if (this.failures === 1 || this.failures % 60 === 0) {
      this.logger.error(
        { err: (err as Error).message, pending: this.queue.length, spilled: this.spilledCount() },
        'usage write failed; will retry',
      );
    }
  }

  private succeeded(): void {
    if (this.failures > 0) this.logger.info({ afterFailures: this.failures }, 'usage writes recovered');
    this.failures = 0;
    this.lastFailure = undefined;
  }

  /**
   * Stops the timer, writes what is left and closes the sink (used on shutdown). The journal
   * deletes the segments the store confirmed and keeps the rest for the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    const unwritten = this.queue.length + this.spilledCount();
    if (unwritten > 0) {
      this.logger.error(
        { unwritten, journaled: this.journal !== undefined },
        this.journal
          ? 'usage records could not be written before shutdown: kept in the journal for the next start'
          : 'usage records could not be written before shutdown',
      );
    }
    this.journal?.close();
    await this.sink.close();
  }
}
