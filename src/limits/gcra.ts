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
/**
 * TATs are epoch milliseconds (about 1.7e12), where a double keeps about 1e-4 ms: a sum of a few
 * intervals of 60000 / limit ms can land a hair below an exact boundary (one unit left read as
 * 0.9999988). Differences within this many ms count as equal, the same in the Lua twin.
 */
export const GCRA_TOLERANCE_MS = 0.01;

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
  if (now + GCRA_TOLERANCE_MS < allowAt) {
    return {
      allowed: false,
      tat: start,
      retryAfterMs: Math.ceil(allowAt - now),
      remaining: Math.max(0, Math.floor((now + windowMs - start + GCRA_TOLERANCE_MS) / interval)),
      resetMs: Math.ceil(start - now),
    };
  }
  const next = start + cost * interval;
  return {
    allowed: true,
    tat: next,
    retryAfterMs: 0,
    remaining: Math.max(0, Math.floor((now + windowMs - next + GCRA_TOLERANCE_MS) / interval)),
    resetMs: Math.ceil(next - now),
  };
}

/** Moves a TAT by `delta` units (negative refunds), e.g. to settle an estimate against the actual cost. */
export function gcraAdjust(tat: number, limit: number, windowMs: number, delta: number): number {
  return tat + delta * (windowMs / limit);
}
