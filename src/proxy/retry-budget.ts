import type { Clock } from '../shared/clock.js';

/**
 * The global retry budget (UPSTREAM_RETRY_BUDGET_*), in the manner of Finagle's RetryBudget and
 * gRPC's retry throttling: retries may be at most a share of requests, so a failing upstream gets
 * at most that much more traffic instead of every request times the attempts. Every request adds
 * `percent / 100` of a retry to a bucket holding at most `percent × 10` (the share of the last
 * thousand requests or so); a retry takes one. When it is empty, a second bucket refilled at
 * `minPerSecond` (holding one second's worth) lets a quiet proxy still retry. Per process.
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly cap: number;
  private balance = 0;
  private reserve: number;
  private reserveAt: number;
  /** Retries refused because both buckets were empty. */
  exhausted = 0;

  constructor(
    percent: number,
    private readonly minPerSecond: number,
    private readonly now: Clock,
  ) {
    this.ratio = percent / 100;
    this.cap = percent * 10;
    this.reserve = minPerSecond;
    this.reserveAt = now();
  }

  /** A request arrived: its share of a retry. */
  deposit(): void {
    this.balance = Math.min(this.cap, this.balance + this.ratio);
  }

  /** Takes one retry; false (and counted) when the budget is spent. */
  withdraw(): boolean {
    if (this.balance >= 1) {
      this.balance -= 1;
      return true;
    }
    const t = this.now();
    this.reserve = Math.min(this.minPerSecond, this.reserve + ((t - this.reserveAt) / 1000) * this.minPerSecond);
    this.reserveAt = t;
    if (this.reserve >= 1) {
      this.reserve -= 1;
      return true;
    }
    this.exhausted++;
    return false;
  }
}

/**
 * The wait before retry number `n` (1-based) on the same key: "full jitter" (AWS architecture
 * blog, "Exponential Backoff And Jitter"), uniform between 0 and min(max, base × 2^(n-1)), so
 * clients that failed together do not come back together.
 */
export function backoffMs(n: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 30)));
}
