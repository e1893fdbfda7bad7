/**
 * Exact lifetime request caps. The check and the increment happen in one synchronous step, so on
 * one event loop no two requests can both take the last slot. Counts are seeded from the store
 * (request_count) and only ever move up, so a cache refill from a not-yet-flushed database value
 * never hands out slots twice. (A shared backend for many instances comes with the Redis issue.)
 */
export interface RequestCounter {
  /** Raises the known count to at least `persisted` (from the store). */
  seed(tokenId: string, persisted: number): void;
  /** Takes one slot if fewer than `max` are used; returns false at the cap. */
  tryAcquire(tokenId: string, max: number | null): boolean;
  count(tokenId: string): number;
}

export class MemoryRequestCounter implements RequestCounter {
  private readonly counts = new Map<string, number>();

  seed(tokenId: string, persisted: number): void {
    const known = this.counts.get(tokenId) ?? 0;
    if (persisted > known) this.counts.set(tokenId, persisted);
  }

  tryAcquire(tokenId: string, max: number | null): boolean {
    const used = this.counts.get(tokenId) ?? 0;
    if (max !== null && used >= max) return false;
    this.counts.set(tokenId, used + 1);
    return true;
  }

  count(tokenId: string): number {
    return this.counts.get(tokenId) ?? 0;
  }
}
