/**
 * GCRA (generic cell rate algorithm): a rate limit as one number per key, the theoretical arrival
 * time (TAT). A limit of N units per window admits bursts of up to N units, then refills evenly.
 * Pure functions over that number, so the in-memory backend and a shared (Redis) backend store the
 * same state and give the same answers.
 */
export interface GcraDecision {
  allowed: boolean;
  /** The TAT to store if the request goes ahead (unchanged state when refused). */
  tat: number;
  /** Milliseconds until a request of this cost would be admitted (0 when allowed). */
  retryAfterMs: number;
  /** Units still available in the window after this request. */
  remaining: number;
  /** Milliseconds until the window is fully replenished. */
  resetMs: number;
}

/**
 * Decides whether `cost` units fit under `limit` units per `windowMs`, given the stored TAT
 * (undefined for a fresh key). A cost above the whole limit is checked as the whole limit, so a
 * large request is admitted into an empty window instead of never; its true cost is charged.
 */
export function gcra(
  tat: number | undefined,
  now: number,
  limit: number,
  windowMs: number,
  cost: number,
): GcraDecision {
  const interval = windowMs / limit;
  const start = Math.max(tat ?? now, now);
  const checked = start + Math.min(cost, limit) * interval;
  const allowAt = checked - windowMs;
  if (now < allowAt) {
    return {
      allowed: false,
      tat: start,
      retryAfterMs: Math.ceil(allowAt - now),
      remaining: Math.max(0, Math.floor((now + windowMs - start) / interval)),
      resetMs: Math.ceil(start - now),
    };
  }
  const next = start + cost * interval;
  return {
    allowed: true,
    tat: next,
    retryAfterMs: 0,
    remaining: Math.max(0, Math.floor((now + windowMs - next) / interval)),
    resetMs: Math.ceil(next - now),
  };
}

/** Moves a TAT by `delta` units (negative refunds), e.g. to settle an estimate against the actual cost. */
export function gcraAdjust(tat: number, limit: number, windowMs: number, delta: number): number {
  return tat + delta * (windowMs / limit);
}
