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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** A time in UTC as the charts label it: "7 Dec" for a day, "7 Dec, 14:00" for an hour (its minutes too, if any). */
export function bucketLabel(ms: number, bucket: Window['bucket']): string {
  const d = new Date(ms);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return bucket === 'day' ? day : `${day}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/**
 * Why a chart starts empty, when it does: the first bucket with a request, if the buckets before it
 * are most of the window (a new install: 29 of 30 days blank), or any at all when what the chart
 * is of was created inside the window (`createdAt`; then `created` says when). Undefined when the
 * chart has no such empty start, or no requests at all (the page says that instead).
 */
export function leadingQuiet<T extends { requests: number; start?: string; hour?: string; day?: string }>(
  w: Window,
  entries: T[],
  createdAt?: string,
): { first: string; created: string | undefined } | undefined {
  const starts = bucketStarts(w);
  const values = fillSeries(w, entries, (e) => e.requests);
  const i = values.findIndex((v) => v > 0);
  if (i <= 0) return undefined;
  const created = createdAt === undefined ? undefined : Date.parse(createdAt);
  const createdInside = created !== undefined && created > w.from;
  if (!createdInside && i < starts.length / 2) return undefined;
  return {
    first: bucketLabel(starts[i] as number, w.bucket),
    created: createdInside ? bucketLabel(created, w.bucket) : undefined,
  };
}
