import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { InstanceRow, InstancesRepo } from '../store/instances-repo.js';

/** What the process says of itself at each heartbeat, read from state it already keeps. */
export interface InstanceSample {
  inFlight: number;
  /** `ok` or `failing: …` (the usage writer's last write to the database). */
  database: string;
  /** The Redis limiter's state; null without REDIS_URL. */
  redis: string | null;
}

export interface HeartbeatOptions {
  id: string;
  version: string;
  /** Its WORKERS slot (0 … N-1) when the process is one of several on the host; null otherwise. */
  worker: number | null;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** The process's state besides what `start` is given (the runtime's usage writer, limiter). */
  sample: () => Omit<InstanceSample, 'inFlight'>;
}

/**
 * This process's row in the instances registry: upserted every INSTANCE_HEARTBEAT_MS off the
 * request path (one statement, plus one read of all rows for /health's counts), marked draining
 * when a graceful shutdown begins and deleted when it ends. A failing database never stops the
 * loop: the first failure is logged, the next beat retries, the recovery is logged.
 */
export class Heartbeat {
  readonly startedAt: number;
  /** Heartbeats written and failed since start. */
  readonly beats = { written: 0, failed: 0 };
  private listen: string | null = null;
  private inFlight: () => number = () => 0;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<boolean> | undefined;
  private started = false;
  private stopped = false;
  private failing = false;
  private rows: { rows: InstanceRow[]; readAt: number } | undefined;

  constructor(
    private readonly repo: InstancesRepo,
    private readonly opts: HeartbeatOptions,
  ) {
    this.startedAt = opts.clock();
  }

  /** Beats now and then every interval, until `stop`. `listen` is the server's URL. */
  start(server: { listen: string; inFlight: () => number }): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.listen = server.listen;
    this.inFlight = server.inFlight;
    void this.beat();
  }

  /** This process's row as of now (also what the management API shows of it when the database cannot answer). */
  row(): InstanceRow {
    const s = this.opts.sample();
    return {
      id: this.opts.id,
      host: hostname(),
      pid: process.pid,
      worker: this.opts.worker,
      version: this.opts.version,
      listen: this.listen,
      started_at: this.startedAt,
      last_seen_at: this.opts.clock(),
      in_flight: this.inFlight(),
      draining: this.draining ? 1 : 0,
      database_state: s.database,
      redis_state: s.redis,
    };
  }

  /** The rows read at the last successful heartbeat, and when; undefined before the first. */
  lastRead(): { rows: InstanceRow[]; readAt: number } | undefined {
    return this.rows;
  }

  /** One heartbeat now (none overlap); resolves whether it was written. Never throws. */
  beat(): Promise<boolean> {
    if (!this.started || this.stopped) return Promise.resolve(false);
    this.beating ??= this.write().finally(() => {
      this.beating = undefined;
      this.schedule();
    });
    return this.beating;
  }

  /** A graceful shutdown began: the row says `draining` at once (not awaited by the caller). */
  drain(): Promise<boolean> {
    this.draining = true;
    return this.beating ? this.beating.then(() => this.beat()) : this.beat();
  }

  /** Stops beating and deletes the row (a failure is logged: the row then ages to `gone`). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.beating;
    if (!this.started) return;
    try {
      await this.repo.delete(this.opts.id);
    } catch (err) {
      this.opts.logger.warn(
        { instance: this.opts.id, err: (err as Error)?.message },
        'instance row not deleted; it will show as gone',
      );
    }
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.beat();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  private async write(): Promise<boolean> {
    const { logger, id } = this.opts;
    try {
      await this.repo.upsert(this.row());
      const readAt = this.opts.clock();
      this.rows = { rows: await this.repo.list(), readAt };
      this.beats.written++;
      if (this.failing) logger.info({ instance: id }, 'instance heartbeat written again');
      this.failing = false;
      return true;
    } catch (err) {
      this.beats.failed++;
      // Once per outage: a beat every few seconds would flood the log.
      if (!this.failing) {
        logger.warn({ instance: id, err: (err as Error)?.message }, 'instance heartbeat failed; retrying');
      }
      this.failing = true;
      return false;
    }
  }
}
