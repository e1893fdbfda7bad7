/**
 * A circuit breaker for calls to one server: after `failures` consecutive failures it opens and
 * refuses calls at once for `openMs` (nobody waits on a dead server), then lets one call through
 * as a probe (half-open): its success closes it, its failure opens it again.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private probing = false;
  /** Times it opened (for the metrics and tests). */
  opened = 0;

  constructor(
    private readonly failures: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.consecutive < this.failures) return 'closed';
    return this.now() < this.openUntil ? 'open' : 'half-open';
  }

  /** Whether a call may go ahead now; a caller that gets true must report `success` or `failure`. */
  allow(): boolean {
    if (this.consecutive < this.failures) return true;
    if (this.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.consecutive = 0;
    this.probing = false;
  }

  failure(): void {
    this.probing = false;
    this.consecutive++;
    if (this.consecutive >= this.failures) {
      if (this.consecutive === this.failures) this.opened++;
      this.openUntil = this.now() + this.openMs;
    }
  }
}
