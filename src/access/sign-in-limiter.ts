import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.js';

const WINDOW_MS = 60_000;
/** Keys remembered at most (client addresses and usernames); the least recently failed go first. */
const MAX_KEYS = 10_000;

/**
 * Failed sign-ins counted per key (a client address, a username) in fixed one-minute windows, in
 * this process's memory: once a key has `perMinute` failures in a window, every attempt with it is
 * refused until the window ends, right credentials included, so guessing is throttled without
 * telling the guesser anything. A username's limit applies from every address.
 */
export class SignInLimiter {
  private readonly windows = new LRUCache<string, { start: number; failures: number }>({ max: MAX_KEYS });

  constructor(
    private readonly perMinute: number,
    private readonly now: Clock,
  ) {}

  /** How long until the keys may try again: 0 when none of them is blocked. */
  blockedFor(keys: readonly string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w && now - w.start < WINDOW_MS && w.failures >= this.perMinute)
        wait = Math.max(wait, w.start + WINDOW_MS - now);
    }
    return wait;
  }

  failed(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      const w = this.windows.get(key);
      if (!w || now - w.start >= WINDOW_MS) this.windows.set(key, { start: now, failures: 1 });
      else w.failures += 1;
    }
  }
}
