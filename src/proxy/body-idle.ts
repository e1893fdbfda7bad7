import { performance } from 'node:perf_hooks';

/** A request whose body is being received: when its last byte came, and what to do when it stalls. */
export interface BodyReceiver {
  lastByteAt: number;
  onBodyIdle(): void;
}

/**
 * The request-body idle timeout (PROXY_REQUEST_BODY_IDLE_TIMEOUT_MS), for every request at once:
 * receivers note the time of each chunk, and one sweeping interval cuts those that stalled. A set
 * entry and a clock read per request instead of a timer each; the sweep runs only while
 * something is being received (it stops itself when it finds nothing), so an idle proxy has no
 * timer at all. A stall is noticed between `timeoutMs` and `timeoutMs` plus a quarter of it (at
 * most one second) after the last byte.
 */
export class BodyIdleWatch {
  private readonly receiving = new Set<BodyReceiver>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly everyMs: number;

  /** `timeoutMs` 0 turns the watch off. */
  constructor(readonly timeoutMs: number) {
    this.everyMs = Math.min(1_000, Math.max(10, Math.floor(timeoutMs / 4)));
  }

  watch(r: BodyReceiver): void {
    if (this.timeoutMs === 0) return;
    r.lastByteAt = performance.now();
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
    const cutoff = performance.now() - this.timeoutMs;
    for (const r of this.receiving) {
      if (r.lastByteAt > cutoff) continue;
      this.receiving.delete(r);
      r.onBodyIdle();
    }
  }
}
