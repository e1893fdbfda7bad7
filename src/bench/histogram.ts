import * as hdr from 'hdr-histogram-js';

/** HdrHistogram of durations recorded in whole microseconds, 3 significant digits, auto-resizing. */
export type Histogram = hdr.Histogram;

/** The percentiles every duration metric reports, in milliseconds. */
export interface Summary {
  count: number;
  min: number;
  mean: number;
  stdev: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

export const PERCENTILES = ['p50', 'p90', 'p99', 'p99_9'] as const;
export const SUMMARY_STATS = ['min', 'mean', 'stdev', 'p50', 'p90', 'p99', 'p99_9', 'max'] as const;
export type SummaryStat = (typeof SUMMARY_STATS)[number];

export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    // One minute; longer values resize the histogram.
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a duration given in milliseconds (fractional) at microsecond resolution. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(ms <= 0 ? 0 : Math.round(ms * 1000));
}

const ms = (us: number) => Math.round(us) / 1000;

/** Milliseconds with microsecond precision; null when nothing was recorded. */
export function summarize(h: Histogram): Summary | null {
  const count = h.totalCount;
  if (count === 0) return null;
  const max = h.maxValue;
  // A percentile reads the top of its bucket, which can lie just above the largest value seen.
  const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), max));
  return {
    count,
    min: at(0),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p99_9: at(99.9),
    max: ms(max),
  };
}
