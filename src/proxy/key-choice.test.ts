import { describe, expect, it } from 'vitest';
import type { UpstreamKey } from '../projects/upstream-key.js';
import { chooseKey } from './key-choice.js';
import { KeyLoad } from './key-load.js';

const key = (name: string, weight: number): UpstreamKey => ({
  id: name,
  name,
  origin: 'https://api.openai.com',
  prefix: '',
  authStyle: 'bearer',
  http2: false,
  weight,
  secret: `sk-${name}`,
});

describe('chooseKey', () => {
  it('has nothing to choose from an empty pool, and takes the only key of a pool of one', () => {
    expect(chooseKey([])).toBeUndefined();
    const only = key('only', 7);
    expect(chooseKey([only], () => 0.999)).toBe(only);
  });

  it('splits the unit interval in proportion to the weights', () => {
    const keys = [key('a', 1), key('b', 3)];
    // a owns [0, 0.25), b [0.25, 1).
    expect(chooseKey(keys, () => 0)?.name).toBe('a');
    expect(chooseKey(keys, () => 0.2499)?.name).toBe('a');
    expect(chooseKey(keys, () => 0.25)?.name).toBe('b');
    expect(chooseKey(keys, () => 0.9999)?.name).toBe('b');
  });

  it('with real randomness, sends each key its weighted share', () => {
    const keys = [key('a', 1), key('b', 2), key('c', 1)];
    const seen = new Map<string, number>();
    for (let i = 0; i < 40_000; i++) {
      const name = chooseKey(keys)?.name as string;
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    // Expected 10k / 20k / 10k; 5 standard deviations (~90 for 10k of 40k) is far wider than chance.
    expect(Math.abs((seen.get('a') ?? 0) - 10_000)).toBeLessThan(500);
    expect(Math.abs((seen.get('b') ?? 0) - 20_000)).toBeLessThan(500);
    expect(Math.abs((seen.get('c') ?? 0) - 10_000)).toBeLessThan(500);
  });
});

describe('chooseKey with keys cooling down', () => {
  it('never picks a key that is not usable, and has nothing when none is', () => {
    const keys = [key('a', 1), key('b', 3), key('c', 1)];
    const notB = (k: UpstreamKey) => k.name !== 'b';
    // a owns [0, 0.5), c [0.5, 1) once b is out.
    expect(chooseKey(keys, () => 0.49, notB)?.name).toBe('a');
    expect(chooseKey(keys, () => 0.5, notB)?.name).toBe('c');
    expect(chooseKey(keys, () => 0.9999, notB)?.name).toBe('c');
    expect(
      chooseKey(
        keys,
        () => 0,
        () => false,
      ),
    ).toBeUndefined();
    expect(
      chooseKey(
        [key('only', 1)],
        () => 0,
        () => false,
      ),
    ).toBeUndefined();
  });
});

/** A seeded generator (mulberry32): the same picks on every run, so the bounds below are exact, not chance. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function loaded() {
  let t = 5_000_000;
  const load = new KeyLoad({ decayMs: 10_000, minRequests: 1, minTokens: 1 }, () => t);
  return { load, advance: (ms: number) => (t += ms) };
}

const QUIET = { 'x-ratelimit-remaining-requests': '9999', 'x-ratelimit-reset-requests': '6ms' };
const spent = (reset: string) => ({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': reset });

/** Sends one request with the key that answers after `ms`, and leaves it in flight. */
function send(load: KeyLoad, id: string, ms: number, headers: Record<string, string> = QUIET): void {
  load.started(id);
  load.observed(id, ms, headers);
}

describe('chooseKey by power of two choices', () => {
  const every = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.9999];

  it('takes the key with fewer requests in flight, whichever two are drawn first', () => {
    const { load } = loaded();
    const keys = [key('a', 1), key('b', 1)];
    send(load, 'a', 10);
    send(load, 'a', 10);
    send(load, 'b', 10);
    for (const r of every) for (const r2 of every) expect(pickWith(keys, [r, r2], load)).toBe('b');
    load.ended('a');
    load.ended('a');
    for (const r of every) expect(pickWith(keys, [r, r], load)).toBe('a');
  });

  it('takes the faster key when both are idle', () => {
    const { load } = loaded();
    const keys = [key('fast', 1), key('slow', 1)];
    send(load, 'fast', 20);
    send(load, 'slow', 900);
    load.ended('fast');
    load.ended('slow');
    for (const r of every) for (const r2 of every) expect(pickWith(keys, [r, r2], load)).toBe('fast');
  });

  it('tries a key never used, and keeps off one with requests out that has not answered yet', () => {
    const { load } = loaded();
    const keys = [key('known', 1), key('new', 1)];
    send(load, 'known', 5);
    load.ended('known');
    expect(pickWith(keys, [0, 0], load)).toBe('new');
    load.started('new'); // sent, no headers yet
    expect(pickWith(keys, [0.9, 0], load)).toBe('known');
  });

  it('spreads load in proportion to the weights when keys answer alike', () => {
    // 40 requests kept in flight over keys of weights 1, 2 and 5, all answering in 10 ms: each step
    // one of them (any, alike) ends and the next is chosen. In-flight + 1 settles in proportion to
    // weight, so the picks do too, within a few points.
    const { load } = loaded();
    const keys = [key('a', 1), key('b', 2), key('c', 5)];
    const random = seeded(22);
    const out: string[] = [];
    const picks = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      if (out.length === 40) {
        const [done] = out.splice(Math.floor(random() * out.length), 1);
        load.ended(done as string);
      }
      const k = chooseKey(keys, random, undefined, load) as UpstreamKey;
      send(load, k.id, 10);
      out.push(k.id);
      picks.set(k.id, (picks.get(k.id) ?? 0) + 1);
    }
    const share = (id: string) => (picks.get(id) ?? 0) / 20_000;
    expect(share('a')).toBeGreaterThan(1 / 8 - 0.03);
    expect(share('a')).toBeLessThan(1 / 8 + 0.03);
    expect(share('b')).toBeGreaterThan(2 / 8 - 0.03);
    expect(share('b')).toBeLessThan(2 / 8 + 0.03);
    expect(share('c')).toBeGreaterThan(5 / 8 - 0.03);
    expect(share('c')).toBeLessThan(5 / 8 + 0.03);
    for (const id of out) load.ended(id);
    expect(load.counts().inFlight).toBe(0);
  });

  it('draws the two candidates in proportion to weight: alike and unmeasured, picks follow the weights', () => {
    const { load } = loaded();
    const keys = [key('a', 1), key('b', 3)];
    const random = seeded(7);
    let a = 0;
    for (let i = 0; i < 40_000; i++) if (chooseKey(keys, random, undefined, load)?.id === 'a') a++;
    expect(Math.abs(a - 10_000)).toBeLessThan(500);
  });

  it('never draws a key that is not usable, among ten keys of different weights', () => {
    const { load } = loaded();
    const keys = Array.from({ length: 10 }, (_, i) => key(`k${i}`, 1 + i));
    const random = seeded(3);
    const odd = (k: UpstreamKey) => Number(k.id.slice(1)) % 2 === 1;
    for (let i = 0; i < 2000; i++) {
      const k = chooseKey(keys, random, odd, load) as UpstreamKey;
      expect(odd(k)).toBe(true);
      send(load, k.id, 1 + (i % 7));
    }
    expect(chooseKey(keys, random, () => false, load)).toBeUndefined();
  });
});

describe('chooseKey and rate-limit headroom', () => {
  it('passes over a key whose window is spent until its reset, counting the skips', () => {
    const { load, advance } = loaded();
    const keys = [key('spent', 1), key('free', 1)];
    send(load, 'spent', 1, spent('30s'));
    send(load, 'free', 500);
    for (const r of [0, 0.5, 0.99]) expect(pickWith(keys, [r, r], load)).toBe('free'); // the faster one is out
    expect(load.headroomSkips).toBe(3);
    advance(29_999);
    expect(pickWith(keys, [0, 0], load)).toBe('free');
    advance(1);
    expect(pickWith(keys, [0, 0], load)).toBe('spent'); // reset: back, and the faster of the two
    expect(load.headroomSkips).toBe(4);
  });

  it('when every usable key is spent, takes the one that resets first rather than refusing', () => {
    const { load } = loaded();
    const keys = [key('a', 1), key('b', 1), key('c', 1)];
    send(load, 'a', 1, spent('1m0s'));
    send(load, 'b', 1, spent('10s'));
    send(load, 'c', 1, spent('5s'));
    expect(pickWith(keys, [0, 0], load)).toBe('c');
    expect(
      chooseKey(
        keys,
        () => 0,
        (k) => k.id !== 'c',
        load,
      )?.id,
    ).toBe('b'); // c is cooling down
    expect(load.headroomSkips).toBe(0); // nothing better was found
  });

  it('with one key does no work: no random number, no load read, spent or not', () => {
    const { load } = loaded();
    send(load, 'only', 1, spent('1h0m0s'));
    const only = key('only', 1);
    const random = () => {
      throw new Error('drew a random number');
    };
    expect(chooseKey([only], random, undefined, load)).toBe(only);
    expect(load.headroomSkips).toBe(0);
  });
});

/** The key chosen when the random numbers are these. */
function pickWith(keys: readonly UpstreamKey[], numbers: number[], load: KeyLoad): string | undefined {
  let i = 0;
  return chooseKey(keys, () => numbers[i++ % numbers.length] as number, undefined, load)?.id;
}
