import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Dispatcher, Pool } from 'undici';
import type { RequestKind } from './request-kind.js';
import { serverTimingDuration } from './server-timing.js';
import type { RunStats } from './stats.js';

/** How hard and how long to load one target. */
export interface LoadPlan {
  /**
   * Connections, and requests in flight. In a closed loop each connection sends its next request as
   * soon as the last one finished; in an open loop a request whose time has come waits in the
   * generator for a free connection, and that wait counts in its latency (not in its service time).
   */
  concurrency: number;
  /** Stop after this many requests (sent), or… */
  requests?: number | undefined;
  /** …after this long (ms); in-flight requests still finish and count. */
  durationMs?: number | undefined;
  /** Open loop: send at this rate (req/s) whatever the responses do. */
  rate?: number | undefined;
}

export interface PoolOptions {
  concurrency: number;
  timeoutMs: number;
}

/** One keep-alive pool per target, `connections = concurrency`, no pipelining: how real clients talk. */
export function createPool(origin: string, opts: PoolOptions, stats: () => RunStats): Pool {
  const pool = new Pool(origin, {
    connections: opts.concurrency,
    pipelining: 1,
    // HTTP/1.1 as stated above, also against a TLS target that offers HTTP/2.
    allowH2: false,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connectTimeout: Math.min(opts.timeoutMs, 10_000),
  });
  pool.on('connect', () => stats().connected());
  pool.on('disconnect', () => stats().disconnected());
  return pool;
}

/** Per kind, what does not change between requests. */
interface Prepared {
  index: number;
  kind: RequestKind;
  /** Reused for every request when the body is constant. */
  fixed: RequestOptions | null;
}

/** What undici's dispatch takes, with the body always a buffer (or none). */
type RequestOptions = Dispatcher.DispatchOptions & { body: Buffer | null };

const LF = 10;
const CR = 13;

/**
 * Counts SSE events in a byte stream: a blank line after at least one field line ends one. Works
 * across chunk boundaries and for LF and CRLF line ends; one indexOf per line, no copies.
 */
export class SseEventCounter {
  /** Bytes of the current line read so far (without CR). */
  private partial = 0;
  /** A field line came since the last event ended. */
  private afterField = false;

  reset(): void {
    this.partial = 0;
    this.afterField = false;
  }

  /** The number of events that this chunk completes. */
  push(chunk: Buffer): number {
    let events = 0;
    let from = 0;
    let partial = this.partial;
    for (;;) {
      const nl = chunk.indexOf(LF, from);
      if (nl === -1) {
        // A CR at the very end is (the start of) a line end, not content.
        partial += chunk.length - from - (chunk.length > from && chunk[chunk.length - 1] === CR ? 1 : 0);
        break;
      }
      const line = partial + nl - from - (nl > from && chunk[nl - 1] === CR ? 1 : 0);
      if (line > 0) this.afterField = true;
      else if (this.afterField) {
        events++;
        this.afterField = false;
      }
      partial = 0;
      from = nl + 1;
    }
    this.partial = partial;
    return events;
  }
}

/**
 * One request in flight, reused for the next one (no per-request handler allocation): undici's
 * dispatch handler, reading only the two headers it measures from the ones undici has parsed.
 */
class Exchange implements Dispatcher.DispatchHandler {
  kind = 0;
  start = 0;
  sent = 0;
  firstByte = 0;
  lastByte = 0;
  status = 0;
  sse = false;
  readonly events = new SseEventCounter();
  readonly continueBound: () => void;

  constructor(private readonly run: LoadRun) {
    this.continueBound = () => run.afterResponse(this);
  }

  reset(kind: number, start: number): void {
    this.kind = kind;
    this.start = start;
    this.sent = 0;
    this.firstByte = 0;
    this.lastByte = 0;
    this.status = 0;
    this.sse = false;
    this.events.reset();
  }

  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    const stats = this.run.stats;
    const timing = headers['server-timing'];
    if (timing !== undefined) {
      for (const value of typeof timing === 'string' ? [timing] : timing) {
        const proxy = serverTimingDuration(value, 'proxy');
        if (proxy >= 0) stats.overhead.recordValue(Math.round(proxy * 1000));
        const upstream = serverTimingDuration(value, 'upstream');
        if (upstream >= 0) stats.upstream.recordValue(Math.round(upstream * 1000));
      }
    }
    this.sse = headers['content-type']?.startsWith('text/event-stream') === true;
    if (this.sse) stats.streams++;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const now = performance.now();
    const stats = this.run.stats;
    stats.bytesIn += chunk.length;
    if (this.firstByte === 0) this.firstByte = now;
    if (this.sse) {
      if (this.lastByte !== 0) stats.gaps.recordValue(Math.round((now - this.lastByte) * 1000));
      stats.chunks++;
      stats.events += this.events.push(chunk);
    }
    this.lastByte = now;
  }

  onResponseEnd(): void {
    const end = performance.now();
    this.run.stats.response(this.status, this.start, this.sent, this.firstByte || end, end);
    // undici finishes its bookkeeping for this socket after this returns; continue right after.
    queueMicrotask(this.continueBound);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.run.stats.transportError(err);
    queueMicrotask(this.continueBound);
  }
}

/**
 * One timed load against one pool: a closed loop (a fixed number of requests always in flight) or
 * an open loop (requests sent on a fixed schedule, latency measured from the scheduled time).
 */
export class LoadRun {
  private readonly prepared: Prepared[];
  private seq = 0;
  private inflight = 0;
  private stopped = false;
  private t0 = 0;
  private lastEnd = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly idle: Exchange[] = [];
  private resolveDone: (() => void) | undefined;
  private readonly interval: number;
  private readonly open: boolean;

  constructor(
    private readonly pool: Pool,
    kinds: readonly RequestKind[],
    private readonly schedule: Uint16Array,
    private readonly plan: LoadPlan,
    readonly stats: RunStats,
  ) {
    this.prepared = kinds.map((kind, index) => ({
      index,
      kind,
      fixed:
        kind.body === null || kind.body.constant
          ? {
              path: kind.path,
              method: kind.method,
              headers: kind.headers,
              body: kind.body ? Buffer.from(kind.body.render(0)) : null,
            }
          : null,
    }));
    this.open = plan.rate !== undefined;
    this.interval = this.open ? 1000 / (plan.rate as number) : 0;
    stats.openLoop = this.open;
  }

  /** Runs to the end of the plan (or stop()), adding to stats; resolves when nothing is in flight. */
  run(): Promise<void> {
    const done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    const cpu = process.cpuUsage();
    this.t0 = performance.now();
    this.lastEnd = this.t0;
    if (this.open) this.tick();
    else {
      for (let i = 0; i < this.plan.concurrency && this.more(this.t0); i++) this.send(new Exchange(this), this.t0);
    }
    this.settleIfDone();
    return done.then(() => {
      const used = process.cpuUsage(cpu);
      this.stats.cpuMicros += used.user + used.system;
      this.stats.elapsedMs += this.lastEnd - this.t0;
      this.stats.rounds++;
    });
  }

  /** Sends nothing more; in-flight requests finish and count. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.settleIfDone();
  }

  /** Responses per second so far in this run. */
  rate(): number {
    const ms = this.t0 === 0 ? 0 : performance.now() - this.t0;
    return ms > 0 ? (this.stats.completed * 1000) / ms : 0;
  }

  /** Progress 0..1 (by count or by time). */
  progress(): number {
    if (this.t0 === 0) return 0;
    if (this.plan.requests !== undefined) return Math.min(1, this.stats.completed / Math.max(1, this.plan.requests));
    return Math.min(1, (performance.now() - this.t0) / (this.plan.durationMs ?? 1));
  }

  /** May request number `seq` (about to be) sent at time `at` still go out? */
  private more(at: number): boolean {
    if (this.stopped) return false;
    if (this.plan.requests !== undefined) return this.seq < this.plan.requests;
    // Open loop: by schedule, so a 2 s run at 200 req/s sends exactly 400.
    if (this.open) return this.seq * this.interval < (this.plan.durationMs ?? 0);
    return at - this.t0 < (this.plan.durationMs ?? 0);
  }

  private send(ex: Exchange, start: number): void {
    const seq = this.seq++;
    const p = this.prepared[this.schedule[seq % this.schedule.length] as number] as Prepared;
    ex.reset(p.index, start);
    const stats = this.stats;
    stats.sent++;
    stats.kinds[p.index] = (stats.kinds[p.index] ?? 0) + 1;
    this.inflight++;
    let opts: RequestOptions | null = p.fixed;
    if (opts === null) {
      const k = p.kind;
      opts = {
        path: k.path,
        method: k.method,
        headers: k.headers,
        body: Buffer.from(k.body?.render(seq) ?? ''),
      };
    }
    if (opts.body) stats.bytesOut += opts.body.length;
    ex.sent = performance.now();
    this.pool.dispatch(opts, ex);
  }

  /** Called (in a microtask) after each response or error. */
  afterResponse(ex: Exchange): void {
    this.inflight--;
    const now = performance.now();
    this.lastEnd = now;
    if (this.open) {
      this.idle.push(ex);
      // A request held back for want of a free connection can go now.
      if (this.timer === undefined && !this.stopped) this.tick();
    } else if (this.more(now)) {
      this.send(ex, now);
      return;
    }
    this.settleIfDone();
  }

  private tick = (): void => {
    this.timer = undefined;
    const max = this.plan.concurrency;
    let now = performance.now();
    for (;;) {
      const intended = this.t0 + this.seq * this.interval;
      if (!this.more(intended)) {
        this.stopped = true;
        break;
      }
      if (intended > now) {
        this.timer = setTimeout(this.tick, Math.max(1, Math.floor(intended - now)));
        break;
      }
      if (this.inflight >= max) break; // resumed by afterResponse
      this.send(this.idle.pop() ?? new Exchange(this), intended);
      now = performance.now();
    }
    this.settleIfDone();
  };

  private settleIfDone(): void {
    if (this.inflight > 0 || this.resolveDone === undefined) return;
    if (this.open ? !this.stopped : this.more(performance.now())) return;
    if (this.timer) return;
    const resolve = this.resolveDone;
    this.resolveDone = undefined;
    resolve();
  }
}
