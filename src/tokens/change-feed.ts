import type { Logger } from '../observability/logger.js';
import type { Change, ChangeRecord, ChangesRepo } from '../store/changes-repo.js';

/**
 * What /health and the metrics say of the feed: `listening` (a push transport is connected and the
 * last poll worked), `polling-only` (no push transport, or it is down: changes arrive within
 * CHANGES_POLL_MS), `failing` (the last read of the change log failed).
 */
export type FeedState = 'listening' | 'polling-only' | 'failing';
export const FEED_STATES: readonly FeedState[] = ['listening', 'polling-only', 'failing'];

/**
 * How an applied change was learnt of: announced by PostgreSQL NOTIFY (`notify`) or Redis pub/sub
 * (`redis`), or found by the periodic read (`poll`).
 */
export type ChangeVia = 'notify' | 'redis' | 'poll';

/**
 * A push transport that announces committed changes (PostgreSQL LISTEN/NOTIFY, or Redis pub/sub
 * when REDIS_URL is set). It only wakes the feed: the change log in the database
 * stays the record, so an announcement that is lost, late or duplicated changes nothing but speed.
 */
export interface ChangeSignal {
  /** How its connection shows on the other side (PostgreSQL: the application_name in pg_stat_activity). */
  readonly name: string;
  /** The `via` label of the changes it wakes the feed for. */
  readonly via: Exclude<ChangeVia, 'poll'>;
  start(handlers: { wake(seq: number): void; up(listening: boolean): void }): void;
  close(): Promise<void>;
}

/** What the feed applies changes to: the token cache. */
export interface ChangeTarget {
  invalidate(tokenIds: readonly string[]): void;
  invalidateProject(projectId: string): void;
  invalidateAll(): void;
}

export interface ChangeFeedOptions {
  /** The periodic read of the change log (CHANGES_POLL_MS): the bound when announcements are lost. */
  pollMs: number;
  logger: Logger;
  signal?: ChangeSignal | undefined;
}

/** Rows read per poll; an instance further behind than this drops its whole cache instead. */
const PAGE = 500;

/** How long change rows are kept (maintenance prunes older ones). */
export const CHANGES_RETENTION_MS = 3_600_000;

/**
 * Keeps this instance's token cache in step with the change log (store/changes-repo.ts). Every
 * CHANGES_POLL_MS, and at once when the signal announces a change, it reads the rows after the last
 * seq it applied (one indexed range read per instance, none per request) and drops the tokens they
 * name from the cache, so the next request of each reads the store. The poll is the per-token
 * version check, amortised: a cache entry is never trusted past a change the poll has seen, and a
 * missed announcement costs at most one poll interval.
 */
export class ChangeFeed {
  /** The last seq applied; undefined until the first read of the log. */
  private applied: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** A wake-up arrived while a poll ran: poll again right after it. */
  private again: ChangeVia | undefined;
  private listening = false;
  private failure: string | undefined;
  private failingSince: number | undefined;
  private lastPollAt: number | undefined;
  private started = false;
  private stopped = false;
  private readonly listeners: Array<(lagSeconds: number, via: ChangeVia) => void> = [];
  /** Changes applied since start. */
  appliedCount = 0;

  constructor(
    private readonly repo: ChangesRepo,
    private readonly target: ChangeTarget,
    private readonly opts: ChangeFeedOptions,
  ) {}

  /** Hears each applied change's lag (seconds from its write to its application here). */
  onApplied(fn: (lagSeconds: number, via: ChangeVia) => void): void {
    this.listeners.push(fn);
  }

  /** Reads the log's head, then follows it. The server calls this; one-shot commands do not. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const signal = this.opts.signal;
    signal?.start({
      wake: (seq) => {
        if (this.applied === undefined || seq > this.applied) this.wake(signal.via);
      },
      up: (listening) => {
        this.listening = listening;
        // Whatever was announced while it was down is read now rather than at the next tick.
        if (listening) this.wake('poll');
      },
    });
    this.wake('poll');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.opts.signal?.close();
    await this.polling;
  }

  /** The push transport's connection name, if there is one. */
  get signalName(): string | undefined {
    return this.opts.signal?.name;
  }

  state(): FeedState {
    if (this.failure !== undefined) return 'failing';
    return this.listening ? 'listening' : 'polling-only';
  }

  /** For /health: no ids, no addresses. */
  health(): { state: FeedState; applied_seq: number | null; last_poll_at: string | null; failing: string | null } {
    return {
      state: this.state(),
      applied_seq: this.applied ?? null,
      last_poll_at: this.lastPollAt === undefined ? null : new Date(this.lastPollAt).toISOString(),
      failing: this.failure ?? null,
    };
  }

  private wake(via: ChangeVia): void {
    if (this.stopped) return;
    if (this.polling) {
      // An announcement outranks a tick for the label: it is why the next read happens.
      if (this.again === undefined || this.again === 'poll') this.again = via;
      return;
    }
    clearTimeout(this.timer);
    this.polling = this.run(via).finally(() => {
      this.polling = undefined;
      const again = this.again;
      this.again = undefined;
      if (this.stopped) return;
      if (again) this.wake(again);
      else this.schedule();
    });
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.wake('poll'), this.opts.pollMs);
    this.timer.unref();
  }

  private async run(via: ChangeVia): Promise<void> {
    try {
      await this.read(via);
      this.lastPollAt = Date.now();
      if (this.failure !== undefined) {
        this.opts.logger.info({ failingForMs: Date.now() - (this.failingSince ?? 0) }, 'change feed: reading again');
      }
      this.failure = undefined;
      this.failingSince = undefined;
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (this.failure === undefined) {
        this.failingSince = Date.now();
        // Once per failing period, not per tick.
        this.opts.logger.warn(
          { err: message },
          'change feed: reading the change log failed; cached tokens are kept for up to TOKEN_CACHE_TTL_MS',
        );
      }
      this.failure = 'change log unreadable';
    }
  }

  private async read(via: ChangeVia): Promise<void> {
    const failedLong = this.failingSince !== undefined && Date.now() - this.failingSince > CHANGES_RETENTION_MS / 2;
    if (this.applied === undefined || failedLong) {
      // Start, or back after so long that the rows missed may have been pruned: start from the
      // head with an empty cache. The head is read first, so a change after it is read next time.
      const head = await this.repo.latest();
      this.target.invalidateAll();
      this.applied = Math.max(head, this.applied ?? 0);
      return;
    }
    const rows = await this.repo.after(this.applied, PAGE);
    if (rows.length === PAGE) {
      // Far behind: dropping everything is cheaper than applying thousands one by one.
      const head = await this.repo.latest();
      this.target.invalidateAll();
      this.applied = head;
      return;
    }
    for (const row of rows) this.apply(row, via);
  }

  private apply(row: ChangeRecord, via: ChangeVia): void {
    applyChange(this.target, row);
    this.applied = row.seq;
    this.appliedCount++;
    // Clocks of two hosts may disagree by a little: a lag is never negative.
    const lag = Math.max(0, Date.now() - row.at) / 1000;
    for (const fn of this.listeners) fn(lag, via);
  }
}

export function applyChange(target: ChangeTarget, change: Change): void {
  switch (change.kind) {
    case 'token':
      target.invalidate([change.tokenId]);
      return;
    case 'project':
      target.invalidateProject(change.projectId);
      return;
    case 'all':
      target.invalidateAll();
      return;
  }
}
