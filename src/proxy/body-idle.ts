/** A request whose body is being received: how long it has been quiet, and what to do when it stalls. */
export interface BodyReceiver {
  /** Sweeps since its last byte: set to 0 on every chunk (a field write, no clock read). */
  idleSweeps: number;
  onBodyIdle(): void;
}

/**
 * The request-body idle timeout (PROXY_BODY_IDLE_TIMEOUT_MS), for every request at once:
 * one sweeping interval counts, for each body being received, the sweeps since its last chunk and
 * cuts those quiet for longer than the timeout. A set entry per request instead of a timer each,
 * and nothing per chunk but a field write; the sweep runs only while something is being received
 * (it stops itself when it finds nothing), so an idle proxy has no timer at all. A stall is
 * noticed between `timeoutMs` and `timeoutMs` plus two sweep periods (a quarter of the timeout
 * each, at most one second) after the last byte.
 */
export class BodyIdleWatch {
  private readonly receiving = new Set<BodyReceiver>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly everyMs: number;
  /** Quiet sweeps that add up to at least the timeout. */
  private readonly quietSweeps: number;

  /** `timeoutMs` 0 turns the watch off. */
  constructor(readonly timeoutMs: number) {
    this.everyMs = Math.min(1_000, Math.max(10, Math.floor(timeoutMs / 4)));
    this.quietSweeps = Math.ceil(timeoutMs / this.everyMs);
  }

  watch(r: BodyReceiver): void {
    if (this.timeoutMs === 0) return;
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
    for (const r of this.receiving) {
      // The first sweep after a byte may come at once: only the ones after it count in full.
      if (++r.idleSweeps <= this.quietSweeps) continue;
      this.receiving.delete(r);
      r.onBodyIdle();
    }
  }
}
