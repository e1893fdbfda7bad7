import { describe, expect, it } from 'vitest';
import { bucketStarts, fillSeries, windowOf } from './range';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('time ranges', () => {
  const now = Date.UTC(2026, 11, 1, 15, 20);

  it('aligns windows as the API does: whole hours, whole UTC days beyond a week', () => {
    const d = windowOf('24h', now);
    expect(d).toMatchObject({ bucket: 'hour', to: Date.UTC(2026, 11, 1, 16), from: Date.UTC(2026, 10, 30, 16) });
    expect(bucketStarts(d)).toHaveLength(24);
    const q = windowOf('90d', now);
    expect(q.bucket).toBe('day');
    expect(q.from % DAY).toBe(0);
    expect(bucketStarts(q)).toHaveLength(91);
  });

  it('fills buckets without traffic with zeros, whichever field names the bucket', () => {
    const w = windowOf('24h', now);
    const first = new Date(w.from).toISOString();
    const last = new Date(w.to - HOUR).toISOString();
    const values = fillSeries(
      w,
      [
        { start: first, n: 3 },
        { hour: last, n: 5 },
      ],
      (e) => e.n,
    );
    expect(values).toHaveLength(24);
    expect(values[0]).toBe(3);
    expect(values[23]).toBe(5);
    expect(values.slice(1, 23).every((v) => v === 0)).toBe(true);
    const days = windowOf('30d', now);
    expect(fillSeries(days, [{ day: '2026-12-01', n: 7 }], (e) => e.n).at(-1)).toBe(7);
  });
});
