/**
 * Exponential backoff with full jitter: a uniformly random pause up to min(max, base · 2^(attempt-1)),
 * so instances that lost the same sink do not come back in step. `attempt` counts from 1.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.floor(random() * ceiling);
}
