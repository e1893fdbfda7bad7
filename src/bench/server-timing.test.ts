import { describe, expect, it } from 'vitest';
import { parseServerTiming, serverTimingDuration } from './server-timing.js';

describe('Server-Timing parsing', () => {
  it('reads the proxy header', () => {
    const v = 'proxy;dur=0.123, upstream;dur=4.500';
    expect(parseServerTiming(v)).toEqual({ proxy: 0.123, upstream: 4.5 });
    expect(serverTimingDuration(v, 'proxy')).toBe(0.123);
    expect(serverTimingDuration(v, 'upstream')).toBe(4.5);
  });

  it('finds the proxy metric after an upstream’s own metrics', () => {
    const v = 'cache;desc="hit, maybe";dur=2, db;dur=53.2, proxy;dur=0.061, upstream;dur=12.004';
    expect(parseServerTiming(v)).toEqual({ cache: 2, db: 53.2, proxy: 0.061, upstream: 12.004 });
    expect(serverTimingDuration(v, 'proxy')).toBe(0.061);
    expect(serverTimingDuration(v, 'db')).toBe(53.2);
  });

  it('matches whole metric names only', () => {
    const v = 'myproxy;dur=9, proxy2;dur=8, proxy;desc="x";dur=1.25';
    expect(serverTimingDuration(v, 'proxy')).toBe(1.25);
    expect(serverTimingDuration('myproxy;dur=9', 'proxy')).toBe(-1);
  });

  it('tolerates spaces, case and metrics without a duration', () => {
    expect(serverTimingDuration('  proxy ; DUR = 3.5 ,x', 'proxy')).toBe(3.5);
    expect(serverTimingDuration('proxy, upstream;dur=1', 'proxy')).toBe(-1);
    expect(serverTimingDuration('proxy;desc=fast', 'proxy')).toBe(-1);
    expect(serverTimingDuration('proxy;dur=abc', 'proxy')).toBe(-1);
    expect(serverTimingDuration('', 'proxy')).toBe(-1);
    expect(parseServerTiming('a;dur=1;desc="q;r", b, c;dur=')).toEqual({ a: 1 });
  });
});
