import { describe, expect, it } from 'vitest';
import { gcra, gcraAdjust } from './gcra.js';

const MIN = 60_000;

function run(limit: number, times: number[], cost = 1) {
  let tat: number | undefined;
  return times.map((now) => {
    const d = gcra(tat, now, limit, MIN, cost);
    if (d.allowed) tat = d.tat;
    return d;
  });
}

describe('GCRA', () => {
  it('admits a burst of the full limit, then one per interval', () => {
    const burst = run(60, Array(61).fill(0));
    expect(burst.filter((d) => d.allowed)).toHaveLength(60);
    expect(burst[59]?.remaining).toBe(0);
    const refused = burst[60];
    expect(refused?.allowed).toBe(false);
    expect(refused?.retryAfterMs).toBe(1000); // one unit per second at 60/min
  });

  it('Retry-After is exact: a request at that moment is admitted, one ms earlier is not', () => {
    let tat: number | undefined;
    for (let i = 0; i < 10; i++) tat = gcra(tat, 0, 10, MIN, 1).tat;
    const refused = gcra(tat, 5, 10, MIN, 1);
    expect(refused.retryAfterMs).toBe(5995);
    expect(gcra(tat, 5 + refused.retryAfterMs - 1, 10, MIN, 1).allowed).toBe(false);
    expect(gcra(tat, 5 + refused.retryAfterMs, 10, MIN, 1).allowed).toBe(true);
  });

  it('sustains exactly the rate over time', () => {
    const times = Array.from({ length: 600 }, (_, i) => i * 250); // 4 req/s for 150 s
    const admitted = run(120, times).filter((d) => d.allowed).length; // 2 req/s allowed
    expect(admitted).toBeGreaterThanOrEqual(120 + 2 * 150 - 2);
    expect(admitted).toBeLessThanOrEqual(120 + 2 * 150 + 1);
  });

  it('charges weighted costs (tokens per minute) and settles estimates both ways', () => {
    const first = gcra(undefined, 0, 1000, MIN, 600);
    expect(first).toMatchObject({ allowed: true, remaining: 400 });
    expect(gcra(first.tat, 0, 1000, MIN, 600).allowed).toBe(false);
    // The request used only 100 tokens: refund 500, and 600 more fit again.
    const settled = gcraAdjust(first.tat, 1000, MIN, 100 - 600);
    expect(gcra(settled, 0, 1000, MIN, 600).allowed).toBe(true);
  });

  it('admits an oversize request into an empty window and charges it fully', () => {
    const big = gcra(undefined, 0, 100, MIN, 250);
    expect(big.allowed).toBe(true);
    expect(gcra(big.tat, 60_000, 100, MIN, 1).allowed).toBe(false); // still paying it off
    expect(gcra(big.tat, 150_000 - 60_000 + 600, 100, MIN, 1).allowed).toBe(true);
  });
});

describe('gcra at epoch-millisecond magnitudes', () => {
  it('reads the one unit left after a burst as one, not 0.99999 (float error in the summed intervals)', () => {
    const now = Date.UTC(2026, 11, 7, 10, 0, 0);
    for (let cost = 20; cost < 200; cost++) {
      const limit = 6 * cost + 1;
      let tat: number | undefined;
      for (let i = 0; i < 6; i++) {
        const d = gcra(tat, now, limit, 60_000, cost);
        expect(d.allowed).toBe(true);
        tat = d.tat;
      }
      const refused = gcra(tat, now, limit, 60_000, cost);
      expect(refused.allowed).toBe(false);
      expect(refused.remaining).toBe(1);
    }
  });
});
