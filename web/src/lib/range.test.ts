import { describe, expect, it } from 'vitest';
import { bucketLabel, bucketStarts, fillSeries, leadingQuiet, windowOf } from './range';

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

  it('says when a chart starts empty: most of its window before the first request, or before a creation inside it', () => {
    const month = windowOf('30d', now);
    const today = new Date(Date.UTC(2026, 11, 1)).toISOString().slice(0, 10);
    const lastDay = [{ day: today, requests: 4 }];
    expect(leadingQuiet(month, lastDay)).toEqual({ first: '1 Dec', created: undefined });
    expect(leadingQuiet(month, lastDay, new Date(now - HOUR).toISOString())).toEqual({
      first: '1 Dec',
      created: '1 Dec',
    });
    // Traffic from the start, or none at all: nothing to explain.
    expect(leadingQuiet(month, [{ day: '2026-11-01', requests: 1 }, ...lastDay])).toBeUndefined();
    expect(leadingQuiet(month, [])).toBeUndefined();
    // A few quiet hours at the start of a day are no news, unless what it shows was created then.
    const day = windowOf('24h', now);
    const afternoon = [{ hour: new Date(Date.UTC(2026, 11, 1, 3)).toISOString(), requests: 2 }];
    expect(leadingQuiet(day, afternoon)).toBeUndefined();
    expect(leadingQuiet(day, afternoon, new Date(Date.UTC(2026, 11, 1, 2, 38)).toISOString())).toEqual({
      first: '1 Dec, 03:00',
      created: '1 Dec, 02:38',
    });
    expect(bucketLabel(Date.UTC(2026, 11, 7), 'day')).toBe('7 Dec');
  });
});
