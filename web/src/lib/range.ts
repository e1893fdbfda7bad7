/** Time ranges of the usage charts and how they are bucketed (the rollups are hourly). */
export type RangeKey = '1h' | '24h' | '7d' | '30d' | '90d';

export const RANGES: Array<{ value: RangeKey; label: string }> = [
  { value: '1h', label: '1 h' },
  { value: '24h', label: '24 h' },
  { value: '7d', label: '7 d' },
  { value: '30d', label: '30 d' },
  { value: '90d', label: '90 d' },
];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPAN: Record<RangeKey, number> = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY };

export interface Window {
  from: number;
  to: number;
  bucket: 'hour' | 'day';
  step: number;
}

/** The window of a range ending now, aligned as the API aligns it: whole hours, or whole UTC days. */
export function windowOf(range: RangeKey, now = Date.now()): Window {
  const bucket = SPAN[range] > 7 * DAY ? 'day' : 'hour';
  const step = bucket === 'day' ? DAY : HOUR;
  const to = Math.ceil((now + 1) / HOUR) * HOUR;
  const from = Math.floor((to - SPAN[range]) / step) * step;
  return { from, to, bucket, step };
}

/** Every bucket start of the window (epoch ms), so hours without traffic show as zero rather than missing. */
export function bucketStarts(w: Window): number[] {
  const out: number[] = [];
  for (let t = w.from; t < w.to; t += w.step) out.push(t);
  return out;
}

/** Values per bucket start from the API's entries (keyed by `hour` or `day`), zero where absent. */
export function fillSeries<T extends { start?: string; hour?: string; day?: string }>(
  w: Window,
  entries: T[],
  value: (e: T) => number,
): number[] {
  const byStart = new Map<number, number>();
  for (const e of entries) {
    const key = e.start ?? e.hour ?? (e.day ? `${e.day}T00:00:00Z` : undefined);
    if (key) byStart.set(Date.parse(key), value(e));
  }
  return bucketStarts(w).map((t) => byStart.get(t) ?? 0);
}
