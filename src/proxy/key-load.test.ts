import { describe, expect, it } from 'vitest';
import { KeyLoad } from './key-load.js';

const DECAY = 10_000;

function setup(minRequests = 1, minTokens = 1) {
  let t = 1_000_000;
  const load = new KeyLoad({ decayMs: DECAY, minRequests, minTokens }, () => t);
  return {
    load,
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** Headers as OpenAI sends them, with these windows. */
const limits = (remainingRequests: string, resetRequests: string, remainingTokens = '90000', resetTokens = '1ms') => ({
  'x-ratelimit-remaining-requests': remainingRequests,
  'x-ratelimit-reset-requests': resetRequests,
  'x-ratelimit-remaining-tokens': remainingTokens,
  'x-ratelimit-reset-tokens': resetTokens,
});

const QUIET = limits('9999', '6ms');

describe('in-flight requests per key', () => {
  it('count up at dispatch and back to zero at the end, whatever the outcome, never below zero', () => {
    const { load } = setup();
    load.started('a');
    load.started('a');
    load.started('b');
    expect(load.counts().inFlight).toBe(3);
    load.observed('a', 5, QUIET); // one answered…
    load.ended('a');
    load.ended('a'); // …one failed before its headers
    load.ended('b'); // the client left
    expect(load.counts().inFlight).toBe(0);
    load.ended('a'); // a double end (a bug) does not make a negative count
    load.ended('never-started');
    load.started('a');
    expect(load.counts().inFlight).toBe(1);
  });

  it("raise the cost of a key: (in flight + 1) × (latency + the clock's 1 ms) ÷ weight", () => {
    const { load, now } = setup();
    load.started('a');
    load.observed('a', 9, QUIET);
    expect(load.cost('a', 1, now())).toBe(20);
    expect(load.cost('a', 4, now())).toBe(5);
    load.ended('a');
    expect(load.cost('a', 1, now())).toBe(10);
    // A key faster than the clock can tell still weighs its requests in flight.
    load.started('instant');
    load.observed('instant', 0, QUIET);
    load.started('instant');
    expect(load.cost('instant', 1, now())).toBe(3);
  });

  it('cost nothing for a key never used (it is tried), and most for one with requests out and no answer yet', () => {
    const { load, now } = setup();
    expect(load.cost('new', 1, now())).toBe(0);
    load.started('new');
    load.started('other');
    load.observed('other', 60_000, QUIET);
    expect(load.cost('new', 1, now())).toBeGreaterThan(load.cost('other', 1, now()));
    load.started('new');
    expect(load.cost('new', 1000, now())).toBe(load.cost('new', 1, now())); // the penalty ignores weight
  });
});

describe('peak-EWMA latency', () => {
  it('takes a slower response at once, and a faster one over the decay time', () => {
    const { load, now, advance } = setup();
    load.started('a');
    load.observed('a', 10, QUIET);
    const estimate = () => load.cost('a', 1, now()) / 2 - 1; // one in flight, less the clock's 1 ms
    expect(estimate()).toBe(10);
    load.observed('a', 100, QUIET); // a slow response: the estimate is 100 at once
    expect(estimate()).toBe(100);
    load.observed('a', 10, QUIET); // a fast one at the same instant moves nothing
    expect(estimate()).toBe(100);
    advance(DECAY);
    load.observed('a', 10, QUIET); // one decay time later: 100·e⁻¹ + 10·(1 − e⁻¹)
    expect(estimate()).toBeCloseTo(100 / Math.E + 10 * (1 - 1 / Math.E), 9);
  });

  it('decays toward zero while the key is not heard from, so an idle slow key is tried again', () => {
    const { load, now, advance } = setup();
    load.started('slow');
    load.observed('slow', 1000, QUIET);
    load.ended('slow');
    expect(load.cost('slow', 1, now())).toBe(1001);
    advance(DECAY);
    expect(load.cost('slow', 1, now())).toBeCloseTo(1000 / Math.E + 1, 9);
    advance(4 * DECAY);
    expect(load.cost('slow', 1, now())).toBeLessThan(8); // e⁻⁵ of it
  });
});

describe('rate-limit headroom', () => {
  it('marks a key spent until the reset its response gave, and free again at that time', () => {
    const { load, now, advance } = setup();
    load.started('a');
    load.observed('a', 5, limits('0', '2s'));
    const t0 = now();
    expect(load.exhaustedUntil('a', t0)).toBe(t0 + 2000);
    expect(load.counts().outOfHeadroom).toBe(1);
    advance(1999);
    expect(load.exhaustedUntil('a', now())).toBe(t0 + 2000);
    advance(1);
    expect(load.exhaustedUntil('a', now())).toBe(0);
    expect(load.counts().outOfHeadroom).toBe(0);
  });

  it('counts a window at or below the threshold as spent, the later of requests and tokens', () => {
    const { load, now } = setup(2, 500);
    load.started('a');
    load.observed('a', 5, limits('3', '1s'));
    expect(load.exhaustedUntil('a', now())).toBe(0); // 3 requests left: headroom
    load.observed('a', 5, limits('2', '1s'));
    expect(load.exhaustedUntil('a', now())).toBe(now() + 1000);
    load.observed('a', 5, limits('1', '1s', '400', '6m0s'));
    expect(load.exhaustedUntil('a', now())).toBe(now() + 360_000);
    load.observed('a', 5, limits('9999', '1s', '500', '250ms'));
    expect(load.exhaustedUntil('a', now())).toBe(now() + 250);
    load.observed('a', 5, QUIET); // the next response has headroom again
    expect(load.exhaustedUntil('a', now())).toBe(0);
  });

  it('ignores what it cannot read: no headers, a count that is not a number, a reset it cannot parse', () => {
    const { load, now } = setup();
    load.started('a');
    for (const headers of [{}, limits('', '1s'), limits('none', '1s'), limits('0', 'soon'), limits('0', '0s')]) {
      load.observed('a', 5, headers);
      expect(load.exhaustedUntil('a', now())).toBe(0);
    }
  });
});

describe('memory', () => {
  it('forgets keys idle for ten decay times, never one with a request out or a spent window', () => {
    const { load, advance } = setup();
    for (const id of ['idle', 'busy', 'spent']) load.started(id);
    load.ended('idle');
    load.observed('spent', 5, limits('0', '1h0m0s'));
    load.ended('spent');
    advance(10 * DECAY);
    load.started('new'); // a new entry sweeps, at most once per decay time
    expect(load.size).toBe(3);
    expect(load.counts()).toEqual({ inFlight: 2, outOfHeadroom: 1 });
    advance(3_600_000);
    load.started('newer');
    expect(load.size).toBe(3); // busy, new, newer
    expect(load.counts().outOfHeadroom).toBe(0);
  });
});
