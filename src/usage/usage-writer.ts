import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import { describeStoreFailure } from '../store/store-errors.js';
import type { UsageRecord } from '../store/usage-record.js';
import type { JournalSegment, UsageJournal } from './journal.js';
import type { AdmittedUsage } from './journal-format.js';
import type { UsageSink } from './usage-sink.js';

export type { UsageRecord } from '../store/usage-record.js';

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
}

export interface UsageWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  /** Records held while the database is unavailable; past this the oldest are dropped (and counted). */
  queueLimit: number;
}

/**
 * Batched, asynchronous writer: the request path only pushes to an array (and, with a journal,
 * appends a line to it). A timer (or a full batch) flushes to the store in one transaction; on a
 * store failure the batch stays queued and is retried, so a database that goes away loses nothing
 * until the queue limit, and with the journal not even past it or across a crash: the next start
 * replays what the store never confirmed.
 */
export class UsageWriter {
  private queue: UsageRecord[] = [];
  private flushing: Promise<void> | undefined;
  private flushStarted = 0;
  private readonly timer: NodeJS.Timeout;
  private failures = 0;
  private lastFailure: string | undefined;
  private closed = false;
  dropped = 0;
  written = 0;
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
      this.dropped += excess;
      // Gone from memory, but not from the journal: the next start writes them.
      this.journal?.keepForReplay();
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
    };
  }

  /** Writes everything queued so far; concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return Promise.resolve();
    this.flushStarted = performance.now();
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.batchSize);
      try {
        await this.sink.write(batch);
      } catch (err) {
        this.failures++;
        this.retries++;
        this.lastFailure = describeStoreFailure(err);
        // Log the first failure and then every 60th, not one line per tick while the database is down.
        if (this.failures === 1 || this.failures % 60 === 0) {
          this.logger.error(
            { err: (err as Error).message, pending: this.queue.length },
            'usage write failed; will retry',
          );
        }
        return;
      }
      if (this.failures > 0) this.logger.info({ afterFailures: this.failures }, 'usage writes recovered');
      this.failures = 0;
      this.lastFailure = undefined;
      this.queue.splice(0, batch.length);
      this.written += batch.length;
      this.batches++;
      this.journal?.stored(batch.length);
    }
  }

  /**
   * Stops the timer, writes what is left and closes the sink (used on shutdown). The journal
   * deletes the segments the store confirmed and keeps the rest for the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    if (this.queue.length > 0) {
      this.logger.error(
        { unwritten: this.queue.length, journaled: this.journal !== undefined },
        this.journal
          ? 'usage records could not be written before shutdown: kept in the journal for the next start'
          : 'usage records could not be written before shutdown',
      );
    }
    this.journal?.close();
    await this.sink.close();
  }
}
