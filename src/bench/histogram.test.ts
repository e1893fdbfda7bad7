import { describe, expect, it } from 'vitest';
import { createHistogram, recordMs, summarize } from './histogram.js';

describe('histogram summaries', () => {
  it('reports percentiles in ms at microsecond resolution', () => {
    const h = createHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i / 100); // 0.01 .. 10 ms
    const s = summarize(h);
    expect(s?.count).toBe(1000);
    expect(s?.min).toBeCloseTo(0.01, 3);
    expect(s?.p50).toBeCloseTo(5, 1);
    expect(s?.p90).toBeCloseTo(9, 1);
    expect(s?.p99).toBeCloseTo(9.9, 1);
    expect(s?.max).toBeCloseTo(10, 1);
    expect(s?.mean).toBeCloseTo(5.005, 1);
    expect(s && s.p99_9 <= s.max).toBe(true);
  });

  it('is null when empty and keeps zero and huge values', () => {
    expect(summarize(createHistogram())).toBeNull();
    const h = createHistogram();
    recordMs(h, 0);
    recordMs(h, -1);
    recordMs(h, 120_000); // two minutes: above the initial range, resized
    const s = summarize(h);
    expect(s?.min).toBe(0);
    expect(s?.max).toBeGreaterThan(119_000);
  });
});
