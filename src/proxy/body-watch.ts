import { performance } from 'node:perf_hooks';
import { type AppError, errors } from '../errors.js';

/** A request whose body is being received: how long it has been quiet, and what to do when it is cut. */
export interface BodyReceiver {
  /** Sweeps since its last byte: set to 0 on every chunk (a field write, no clock read). */
  idleSweeps: number;
  /** performance.now() by which the whole body must have arrived (Infinity: no bound). */
  readonly deadline: number;
  /** The body stalled, or did not arrive in time: `err` is the 408 to end the request with. */
  onBodyTimeout(err: AppError): void;
}

/**
 * The two request-body timeouts, for every request at once: the idle timeout
 * (PROXY_BODY_IDLE_TIMEOUT_MS, the longest pause between two chunks) and the total one
 * (PROXY_BODY_TIMEOUT_MS, the whole body, counted from the request's arrival). One sweeping
 * interval counts, for each body being received, the sweeps since its last chunk and compares
 * its deadline with one clock reading. A set entry per request instead of a timer each, and
 * nothing per chunk but a field write; the sweep runs only while something is being received (it
 * stops itself when it finds nothing), so an idle proxy has no timer at all. A timeout is noticed
 * up to two sweep periods (a quarter of the shorter timeout each, at most one second) after it.
 */
export class BodyWatch {
  private readonly receiving = new Set<BodyReceiver>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly everyMs: number;
  /** Quiet sweeps that add up to at least the idle timeout (Infinity when it is off). */
  private readonly quietSweeps: number;

  /** A timeout of 0 is off; with both off the watch is. */
  constructor(
    readonly idleTimeoutMs: number,
    readonly totalTimeoutMs = 0,
  ) {
    const shorter = Math.min(idleTimeoutMs || Infinity, totalTimeoutMs || Infinity);
    this.everyMs = Math.min(1_000, Math.max(10, Math.floor(shorter / 4)));
    this.quietSweeps = idleTimeoutMs === 0 ? Infinity : Math.ceil(idleTimeoutMs / this.everyMs);
  }

  /** Whether either timeout is on. */
  get on(): boolean {
    return this.idleTimeoutMs > 0 || this.totalTimeoutMs > 0;
  }

  /** When the body of a request that arrived at `t0` (performance.now()) must be complete. */
  deadline(t0: number): number {
    return this.totalTimeoutMs === 0 ? Infinity : t0 + this.totalTimeoutMs;
  }

  watch(r: BodyReceiver): void {
    if (!this.on) return;
    r.idleSweeps = 0;
    this.receiving.add(r);
    this.sweeper ??= setInterval(() => this.sweep(), this.everyMs).unref();
  }

  unwatch(r: BodyReceiver): void {
    this.receiving.delete(r);
  }

  private sweep(): void {
    if (this.receiving.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = this.totalTimeoutMs === 0 ? 0 : performance.now();
    for (const r of this.receiving) {
      if (now >= r.deadline) {
        this.receiving.delete(r);
        r.onBodyTimeout(errors.requestBodyTooSlow(this.totalTimeoutMs));
        continue;
      }
      // The first sweep after a byte may come at once: only the ones after it count in full.
      if (++r.idleSweeps <= this.quietSweeps) continue;
      this.receiving.delete(r);
      r.onBodyTimeout(errors.requestBodyTimeout(this.idleTimeoutMs));
    }
  }
}

/**
 * Node's own request timeout (server.requestTimeout, the whole request from its first header byte,
 * checked every 30 s) set so that it never cuts a /v1 body before PROXY_BODY_TIMEOUT_MS does:
 * Node's cut is a bare 408 written on the socket, which the proxy would see as a broken upload.
 * Beyond the body's own bound it allows the headers' time (Node's headersTimeout, which counts
 * before the proxy's clock starts) and the sweep; never less than Node's default of 300 s, which
 * still bounds the management API. 0 (no body bound) lifts Node's too.
 */
export function serverRequestTimeoutMs(bodyTimeoutMs: number, headersTimeoutMs: number): number {
  if (bodyTimeoutMs === 0) return 0;
  return Math.max(300_000, bodyTimeoutMs + headersTimeoutMs + 10_000);
}
