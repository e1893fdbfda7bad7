import type { Logger } from '../observability/logger.js';
import type { UsageRecord } from '../store/usage-record.js';
import { backoffMs } from './backoff.js';
import type { DeadLetter } from './dead-letter.js';
import { DeliveryError, failureReason, type Sink, type SinkName } from './sink.js';
import type { Spill } from './spill.js';
import { toUsageEvent, type UsageEventV1 } from './usage-event.js';

export interface ChannelOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** Events held in memory; past it new ones are dropped (`queue_full`). */
  queueLimit: number;
  /** Failed attempts of a batch that are retried; the next failure sends it to the dead-letter file. */
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Why events were given up: a bounded set, the `reason` label of the dropped metric. */
export const DROP_REASONS = ['queue_full', 'spill_full', 'spill_error', 'dead_letter_error', 'shutdown'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** A sink's state for /health and the metrics. */
export interface SinkStatus {
  sink: SinkName;
  /** Events not acknowledged yet: in memory, being delivered, on disk. */
  queued: number;
  spilledBytes: number;
  shipped: number;
  /** Failed attempts that were retried. */
  retries: number;
  deadLettered: number;
  dropped: Record<DropReason, number>;
  /** The reason of the last failed attempt (a status or an error code), until an attempt succeeds. */
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  lastSuccessAt: number | undefined;
}

interface Batch {
  events: UsageEventV1[];
  /** Its events are the spill's oldest (acknowledged there once delivered). */
  fromSpill: boolean;
  attempts: number;
}

/**
 * One sink's queue: the request path appends a record to an array (`push`, O(1), never waits);
 * a timer, or a full batch, sends batches one at a time. While the sink is failing or falls behind
 * (two full batches wait behind the one being delivered), memory is moved to the spill on disk in one
 * write per tick, and once anything is spilled new events follow it there, so they are sent in
 * order, oldest first. A failed batch is retried after a backoff with full jitter; past the retry
 * budget, or when the sink refuses it outright, it goes to the dead-letter file and the next one
 * is sent. `close` delivers what memory holds while time remains and spills the rest.
 */
export class SinkChannel {
  private memory: UsageRecord[] = [];
  private batch: Batch | undefined;
  private pumping: Promise<void> | undefined;
  private spilling: Promise<void> | undefined;
  /** Events taken from memory by the spill write in progress. */
  private inSpillWrite = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;
  private kickScheduled = false;
  private abort = new AbortController();
  private state: 'open' | 'closing' | 'closed' = 'open';
  /** Set at the shutdown deadline: no further delivery starts. */
  private givenUp = false;
  private closing: Promise<void> | undefined;
  /** Consecutive failed attempts (0 while the sink is healthy). */
  private failures = 0;
  private spillFailures = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;
  private reportedQueueFull = 0;
  private readonly stats = {
    shipped: 0,
    retries: 0,
    deadLettered: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
    lastError: undefined as string | undefined,
    lastErrorAt: undefined as number | undefined,
    lastSuccessAt: undefined as number | undefined,
  };

  constructor(
    private readonly sink: Sink,
    private readonly opts: ChannelOptions,
    private readonly logger: Logger,
    private readonly deadLetter: DeadLetter,
    /** Undefined with SHIPPING_SPILL_MAX_BYTES=0: what memory cannot hold is dropped. */
    private readonly spill: Spill | undefined,
  ) {
    this.timer = setInterval(() => this.tick(), opts.flushIntervalMs);
    this.timer.unref();
  }

  get name(): SinkName {
    return this.sink.name;
  }

  /** Hot path: O(1), never waits. A full batch is sent after this event-loop turn, not on the timer. */
  push(rec: UsageRecord): void {
    if (this.state === 'closed') {
      this.stats.dropped.shutdown++;
      return;
    }
    if (this.memory.length >= this.opts.queueLimit) {
      this.stats.dropped.queue_full++;
      return;
    }
    this.memory.push(rec);
    if (this.memory.length >= this.opts.batchSize && !this.kickScheduled) {
      this.kickScheduled = true;
      setImmediate(this.kick);
    }
  }

  status(): SinkStatus {
    const s = this.stats;
    const delivering = this.batch && !this.batch.fromSpill ? this.batch.events.length : 0;
    return {
      sink: this.sink.name,
      queued: this.memory.length + delivering + this.inSpillWrite + (this.spill?.pending ?? 0),
      spilledBytes: this.spill?.bytes ?? 0,
      shipped: s.shipped,
      retries: s.retries,
      deadLettered: s.deadLettered,
      dropped: { ...s.dropped },
      lastError: s.lastError,
      lastErrorAt: s.lastErrorAt,
      lastSuccessAt: s.lastSuccessAt,
    };
  }

  /** Sends (or spills) what is due now: on the timer, after a full batch, when a retry is due. */
  private tick(): void {
    if (this.state !== 'open') return;
    // The request path only counts what a full memory queue turned away; it is reported here.
    const full = this.stats.dropped.queue_full - this.reportedQueueFull;
    if (full > 0) {
      this.reportedQueueFull += full;
      this.reportDrop('queue_full', full);
    }
    if (this.shouldSpill()) void this.spillMemory();
    void this.pump();
  }

  private readonly kick = (): void => {
    this.kickScheduled = false;
    this.tick();
  };

  private shouldSpill(): boolean {
    if (!this.spill || this.memory.length === 0) return false;
    // One full batch waiting behind a delivery is the next one; two mean the sink cannot keep up.
    const behind = this.pumping !== undefined && this.memory.length >= 2 * this.opts.batchSize;
    return this.failures > 0 || behind || this.spill.pending > 0 || this.inSpillWrite > 0;
  }

  /** Moves everything in memory to the spill in one write (one at a time; a failure puts it back). */
  private spillMemory(): Promise<void> {
    if (this.spilling || !this.spill) return this.spilling ?? Promise.resolve();
    const spill = this.spill;
    const records = this.memory;
    this.memory = [];
    this.inSpillWrite = records.length;
    this.spilling = spill
      .append(records.map(toUsageEvent))
      .then(
        (dropped) => {
          this.spillFailures = 0;
          if (dropped > 0) this.drop('spill_full', dropped);
        },
        (err: unknown) => {
          const reason = `spill: ${failureReason(err)}`;
          this.stats.lastError = reason;
          this.stats.lastErrorAt = Date.now();
          if (this.spillFailures++ % 60 === 0) {
            this.logger.error({ sink: this.name, reason }, 'log shipping: spill write failed; events stay in memory');
          }
          const back = records.concat(this.memory);
          this.memory = back.slice(0, this.opts.queueLimit);
          if (back.length > this.opts.queueLimit) this.drop('spill_error', back.length - this.opts.queueLimit);
        },
      )
      .finally(() => {
        this.spilling = undefined;
        this.inSpillWrite = 0;
      });
    return this.spilling;
  }

  private pump(): Promise<void> {
    if (this.pumping || this.retryTimer) return this.pumping ?? Promise.resolve();
    this.pumping = this.deliverAll().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  /**
   * Delivers batches back to back while full ones wait (or the spill holds some, or shutdown wants
   * memory emptied); a partial batch waits for the next tick, so batches grow with the traffic
   * instead of one small request per delivery. Stops when a retry is due later or shutdown gives up.
   */
  private async deliverAll(): Promise<void> {
    let first = true;
    while (!this.givenUp) {
      if (!this.batch && !first && !this.fullBatchWaiting()) return;
      first = false;
      this.batch ??= await this.nextBatch();
      if (!this.batch) return;
      if (!(await this.attempt(this.batch))) return;
    }
  }

  private fullBatchWaiting(): boolean {
    return (
      this.state !== 'open' ||
      this.memory.length >= this.opts.batchSize ||
      (this.spill !== undefined && (this.spill.pending > 0 || this.spilling !== undefined))
    );
  }

  /** The spill's oldest events while there are any (then memory would jump the queue), else memory's. */
  private async nextBatch(): Promise<Batch | undefined> {
    if (this.spill && (this.spill.pending > 0 || this.spilling)) {
      await this.spilling;
      const events = await this.spill.peek(this.opts.batchSize);
      if (events.length > 0) return { events, fromSpill: true, attempts: 0 };
    }
    if (this.memory.length === 0) return undefined;
    const records = this.memory.splice(0, this.opts.batchSize);
    return { events: records.map(toUsageEvent), fromSpill: false, attempts: 0 };
  }

  /** One delivery of the batch; true when it is settled (delivered or dead-lettered) and the next may go. */
  private async attempt(batch: Batch): Promise<boolean> {
    if (this.givenUp) return false;
    batch.attempts++;
    this.abort = new AbortController();
    try {
      await this.sink.deliver(batch.events, this.abort.signal);
    } catch (err) {
      if (this.givenUp) return false; // aborted by shutdown: the batch is spilled, not counted as a failure
      const reason = failureReason(err);
      const retryable = !(err instanceof DeliveryError) || err.retryable;
      this.fail(reason, retryable ? 'delivery failed; will retry' : 'delivery refused by the sink');
      if (retryable && batch.attempts <= this.opts.maxRetries) {
        // While shutting down there is no retry: the batch is spilled for the next start.
        if (this.state !== 'open') return false;
        this.stats.retries++;
        this.scheduleRetry(batch.attempts, (err as DeliveryError).retryAfterMs);
        return false;
      }
      await this.toDeadLetter(batch, reason);
      return true;
    }
    if (this.failures > 0) {
      this.logger.info({ sink: this.name, after_failures: this.failures }, 'log shipping: sink recovered');
    }
    this.failures = 0;
    this.stats.lastError = undefined;
    this.stats.lastSuccessAt = Date.now();
    this.stats.shipped += batch.events.length;
    await this.settle(batch);
    return true;
  }

  private scheduleRetry(attempts: number, retryAfterMs: number | undefined): void {
    const pause = backoffMs(attempts, this.opts.retryBaseMs, this.opts.retryMaxMs);
    const delay = Math.max(pause, Math.min(retryAfterMs ?? 0, this.opts.retryMaxMs));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.tick();
    }, delay);
    this.retryTimer.unref();
  }

  private async toDeadLetter(batch: Batch, reason: string): Promise<void> {
    try {
      await this.deadLetter.write(batch.events, batch.attempts, reason);
      this.stats.deadLettered += batch.events.length;
      this.logger.error(
        { sink: this.name, events: batch.events.length, attempts: batch.attempts, reason, file: this.deadLetter.file },
        'log shipping: batch given up, written to the dead-letter file',
      );
    } catch (err) {
      this.drop('dead_letter_error', batch.events.length);
      this.logger.error(
        { sink: this.name, events: batch.events.length, reason: failureReason(err) },
        'log shipping: dead-letter write failed; batch dropped',
      );
    }
    await this.settle(batch);
  }

  /** The batch is done with (delivered or given up): the spill forgets it, the next one may be taken. */
  private async settle(batch: Batch): Promise<void> {
    this.batch = undefined;
    if (batch.fromSpill) await this.spill?.ack(batch.events.length);
  }

  private fail(reason: string, what: string): void {
    this.failures++;
    this.stats.lastError = reason;
    this.stats.lastErrorAt = Date.now();
    // The first failure and then every 60th: not one line per attempt while a sink is down.
    if (this.failures === 1 || this.failures % 60 === 0) {
      this.logger.error(
        { sink: this.name, reason, failures: this.failures, queued: this.status().queued },
        `log shipping: ${what}`,
      );
    }
  }

  private drop(reason: DropReason, n: number): void {
    this.stats.dropped[reason] += n;
    this.reportDrop(reason, n);
  }

  private reportDrop(reason: DropReason, n: number): void {
    // At most a line a minute while a full spill turns events away on every tick.
    const now = Date.now();
    if (now - this.lastDropLog < 60_000 && this.state === 'open') return;
    this.lastDropLog = now;
    this.logger.error(
      { sink: this.name, reason, dropped: n, dropped_total: this.stats.dropped[reason] },
      'log shipping: events dropped',
    );
  }

  /**
   * Shutdown: a healthy sink with nothing spilled gets what memory holds, until `timeoutMs`; then
   * (or at once, for a failing sink) the delivery in progress is aborted and everything not
   * acknowledged is spilled for the next start. Events pushed after this are dropped (`shutdown`).
   */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.state = 'closing';
    clearInterval(this.timer);
    const healthy = this.failures === 0 && !this.retryTimer && (this.spill?.pending ?? 0) === 0 && !this.spilling;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const deadline = setTimeout(() => this.giveUp(), timeoutMs);
    try {
      if (healthy) await this.pump();
      this.giveUp();
      await this.pumping;
      await this.spilling;
    } finally {
      clearTimeout(deadline);
    }
    this.state = 'closed';
    const rest = [...(this.batch && !this.batch.fromSpill ? this.batch.events : []), ...this.memory.map(toUsageEvent)];
    this.batch = undefined;
    this.memory = [];
    if (rest.length > 0) await this.keep(rest);
    await this.spill?.close();
    await this.sink.close();
  }

  private giveUp(): void {
    this.givenUp = true;
    this.abort.abort();
  }

  /** Spills what shutdown could not deliver (or counts it dropped, without a spill). */
  private async keep(events: UsageEventV1[]): Promise<void> {
    if (!this.spill) {
      this.drop('shutdown', events.length);
      return;
    }
    try {
      const dropped = await this.spill.append(events);
      if (dropped > 0) this.drop('spill_full', dropped);
      this.logger.info(
        { sink: this.name, events: events.length - dropped, spilled_bytes: this.spill.bytes },
        'log shipping: undelivered events kept on disk for the next start',
      );
    } catch (err) {
      this.drop('shutdown', events.length);
      this.logger.error({ sink: this.name, reason: failureReason(err) }, 'log shipping: could not spill at shutdown');
    }
  }
}
