import { describe, expect, it } from 'vitest';
import { manualClock } from '../../test/helpers/clock.js';
import { KeyHealth, retryHintMs } from './key-health.js';

const failed = (hintMs?: number) => ({ kind: 'failed', hintMs }) as const;
const OK = { kind: 'ok' } as const;
const NEUTRAL = { kind: 'neutral' } as const;

function health(opts = { baseMs: 1000, maxMs: 60_000, waitMs: 0 }) {
  const clock = manualClock(1_000_000);
  return { h: new KeyHealth(opts, clock.now), clock };
}

describe('KeyHealth', () => {
  it('cools a key for the default time, doubling per failure up to the ceiling', () => {
    const { h, clock } = health({ baseMs: 1000, maxMs: 4000, waitMs: 0 });
    expect(h.usable('k', 'm')).toBe(true);
    h.report('k', 'm', failed());
    expect(h.usable('k', 'm')).toBe(false);
    expect(h.nextUsableInMs(['k'], 'm')).toBe(1000);
    clock.advance(1000);
    expect(h.usable('k', 'm')).toBe(true); // half-open
    h.taken('k', 'm');
    h.report('k', 'm', failed()); // the trial failed: 2 s
    expect(h.nextUsableInMs(['k'], 'm')).toBe(2000);
    clock.advance(2000);
    h.taken('k', 'm');
    h.report('k', 'm', failed());
    expect(h.nextUsableInMs(['k'], 'm')).toBe(4000);
    clock.advance(4000);
    h.taken('k', 'm');
    h.report('k', 'm', failed());
    expect(h.nextUsableInMs(['k'], 'm')).toBe(4000); // the ceiling
  });

  it("takes the upstream's time, capped by the ceiling, and a further failure only extends it", () => {
    const { h, clock } = health();
    h.report('k', 'm', failed(5000));
    expect(h.nextUsableInMs(['k'], 'm')).toBe(5000);
    clock.advance(1000);
    h.report('k', 'm', failed(10_000));
    expect(h.nextUsableInMs(['k'], 'm')).toBe(10_000);
    h.report('k', 'm', failed(1)); // a shorter hint never shortens it
    expect(h.nextUsableInMs(['k'], 'm')).toBe(10_000);
    h.report('k', 'm', failed(3_600_000));
    expect(h.nextUsableInMs(['k'], 'm')).toBe(60_000);
  });

  it('lets one trial through when half-open; its success closes the cooldown', () => {
    const { h, clock } = health();
    h.report('k', 'm', failed(1000));
    h.report('k', 'm', OK); // an answer to a request sent before the cooldown: still cooling
    expect(h.usable('k', 'm')).toBe(false);
    expect(h.trialDue('k', 'm')).toBe(false);
    clock.advance(1000);
    expect(h.counts()).toEqual({ cooling: 0, halfOpen: 1 });
    expect(h.usable('k', 'm')).toBe(true);
    expect(h.trialDue('k', 'm')).toBe(true); // the next request should try it
    expect(h.trialDue('other', 'm')).toBe(false); // a healthy key has no trial to run
    h.taken('k', 'm');
    expect(h.usable('k', 'm')).toBe(false); // the trial is out: others skip the key
    expect(h.trialDue('k', 'm')).toBe(false);
    h.report('k', 'm', OK);
    expect(h.usable('k', 'm')).toBe(true);
    expect(h.counts()).toEqual({ cooling: 0, halfOpen: 0 });
  });

  it("lists one key's cooldowns by model, for the management API", () => {
    const { h, clock } = health();
    h.report('k', 'm', failed(1000));
    h.report('k', '', failed(3000));
    h.report('k2', 'm', failed(1000));
    const t = clock.now();
    expect(h.cooldownsOf('k')).toEqual([
      { model: 'm', state: 'cooling', until: t + 1000 },
      { model: null, state: 'cooling', until: t + 3000 },
    ]);
    clock.advance(1000);
    expect(h.cooldownsOf('k')[0]).toEqual({ model: 'm', state: 'half_open', until: t + 1000 });
    expect(h.cooldownsOf('other')).toEqual([]);
  });

  it('frees the trial slot on a neutral outcome, and gives up a trial that never reports', () => {
    const { h, clock } = health({ baseMs: 1000, maxMs: 10_000, waitMs: 0 });
    h.report('k', 'm', failed());
    clock.advance(1000);
    h.taken('k', 'm');
    h.report('k', 'm', NEUTRAL);
    expect(h.usable('k', 'm')).toBe(true);
    h.taken('k', 'm');
    expect(h.usable('k', 'm')).toBe(false);
    expect(h.nextUsableInMs(['k'], 'm')).toBe(0); // its answer may come any moment
    clock.advance(10_000); // no key stays out for good
    expect(h.usable('k', 'm')).toBe(true);
  });

  it('forgets a half-open entry no request tried within the ceiling', () => {
    const { h, clock } = health({ baseMs: 1000, maxMs: 10_000, waitMs: 0 });
    h.report('k', 'm', failed());
    clock.advance(1000 + 9999);
    expect(h.counts()).toEqual({ cooling: 0, halfOpen: 1 });
    clock.advance(1);
    expect(h.counts()).toEqual({ cooling: 0, halfOpen: 0 });
  });

  it('wakes a waiting request at the next report, or after its time', async () => {
    const { h } = health();
    const woken = h.changed(600_000);
    h.report('k', 'm', failed());
    expect(await woken.done).toBe(true);
    const cancelled = h.changed(600_000);
    cancelled.cancel();
    expect(await cancelled.done).toBe(false);
    expect(await h.changed(1).done).toBe(true);
  });

  it('keeps models apart; a failure with no model known cools the key for every model', () => {
    const { h, clock } = health();
    h.report('k', 'gpt-a', failed(1000));
    expect(h.usable('k', 'gpt-a')).toBe(false);
    expect(h.usable('k', 'gpt-b')).toBe(true);
    expect(h.usable('other', 'gpt-a')).toBe(true);
    h.report('k', '', failed(5000));
    expect(h.usable('k', 'gpt-b')).toBe(false);
    expect(h.usable('k', '')).toBe(false);
    expect(h.nextUsableInMs(['k', 'other'], 'gpt-a')).toBe(0);
    expect(h.nextUsableInMs(['k'], 'gpt-a')).toBe(5000);
    clock.advance(5000);
    h.taken('k', 'gpt-b');
    h.report('k', 'gpt-b', OK); // the key's trial succeeded: open for every model again
    expect(h.usable('k', 'gpt-b')).toBe(true);
    expect(h.usable('k', 'gpt-a')).toBe(true);
  });

  it("tells its listener of each cooldown started, extended or closed, and takes other instances' in", () => {
    const { h, clock } = health();
    const heard: unknown[] = [];
    h.share({ cooled: (...a) => heard.push(['cooled', ...a]), closed: (...a) => heard.push(['closed', ...a]) });
    const t = clock.now();
    h.report('k', 'm', failed(5000));
    h.report('k', 'm', failed(8000));
    clock.advance(8000);
    h.taken('k', 'm');
    h.report('k', 'm', OK);
    expect(heard).toEqual([
      ['cooled', 'k\u0000m', t + 5000, 1],
      ['cooled', 'k\u0000m', t + 8000, 2],
      ['closed', 'k\u0000m', t + 8000],
    ]);

    // Another instance's cooldown: skipped here, never shortened, and extended only by a later one.
    const other = health();
    const u = other.clock.now();
    other.h.adopt('k\u0000m', u + 3000, 2);
    expect(other.h.usable('k', 'm')).toBe(false);
    other.h.adopt('k\u0000m', u + 1000, 1);
    expect(other.h.nextUsableInMs(['k'], 'm')).toBe(3000);
    other.h.adopt('k\u0000m', u - 1, 1); // over already: nothing
    other.h.adopt('k', u - 1, 1);
    expect(other.h.usable('k', 'other-model')).toBe(true);
    // A close of an older cooldown leaves a later one; a close of this one ends it.
    other.h.release('k\u0000m', u + 2000);
    expect(other.h.usable('k', 'm')).toBe(false);
    other.h.release('k\u0000m', u + 3000);
    expect(other.h.usable('k', 'm')).toBe(true);
    expect(other.h.counts()).toEqual({ cooling: 0, halfOpen: 0 });
  });
});

describe('retryHintMs', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  it('reads retry-after-ms, then retry-after (seconds or a date)', () => {
    expect(retryHintMs({ 'retry-after-ms': '250', 'retry-after': '9' }, 500, now)).toBe(250);
    expect(retryHintMs({ 'retry-after': '2' }, 503, now)).toBe(2000);
    expect(retryHintMs({ 'retry-after': 'Mon, 07 Dec 2026 12:00:30 GMT' }, 429, now)).toBe(30_000);
  });

  it("reads a 429's rate-limit reset, of the spent window where one says it is spent", () => {
    const resets = { 'x-ratelimit-reset-requests': '1m2.5s', 'x-ratelimit-reset-tokens': '20ms' };
    expect(retryHintMs(resets, 429, now)).toBe(62_500);
    expect(retryHintMs({ ...resets, 'x-ratelimit-remaining-tokens': '0' }, 429, now)).toBe(20);
    expect(retryHintMs({ 'x-ratelimit-reset-tokens': '1h' }, 429, now)).toBe(3_600_000);
    // Every response carries them: on a 5xx they say nothing about the failure.
    expect(retryHintMs(resets, 500, now)).toBeUndefined();
  });

  it('ignores what it cannot read', () => {
    expect(retryHintMs({}, 429, now)).toBeUndefined();
    expect(retryHintMs({ 'retry-after': 'soon', 'retry-after-ms': '-5' }, 429, now)).toBeUndefined();
    expect(retryHintMs({ 'x-ratelimit-reset-requests': '5 s' }, 429, now)).toBeUndefined();
  });
});
