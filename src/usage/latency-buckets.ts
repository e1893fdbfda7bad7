/**
 * Upper bounds (ms) of the latency histogram kept in usage_latency_rollups. Roughly logarithmic,
 * from sub-millisecond cache hits to reasoning models that think for minutes; the last bucket is
 * open-ended. Percentiles read from it are the upper bound of the bucket they fall in.
 */
export const LATENCY_BUCKETS_MS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1_000,
  2_000,
  5_000,
  10_000,
  20_000,
  30_000,
  60_000,
  120_000,
  300_000,
  Number.POSITIVE_INFINITY,
];

export function latencyBucket(ms: number): number {
  let i = 0;
  while (ms > (LATENCY_BUCKETS_MS[i] as number)) i++;
  return i;
}

/** The value at percentile `p` (0..100) of a histogram given as counts per bucket index. */
export function percentileOf(counts: Map<number, number>, p: number): number | null {
  let total = 0;
  for (const c of counts.values()) total += c;
  if (total === 0) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
    seen += counts.get(i) ?? 0;
    if (seen >= rank) {
      const bound = LATENCY_BUCKETS_MS[i] as number;
      // The open-ended bucket has no upper bound: report the largest finite one.
      return Number.isFinite(bound) ? bound : (LATENCY_BUCKETS_MS[i - 1] as number);
    }
  }
  return null;
}
