import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.js';

const WINDOW_MS = 60_000;
/** Keys remembered at most (client addresses and usernames); the least recently failed go first. */
const MAX_KEYS = 10_000;

interface Window {
  start: number;
  failures: number;
}

/** An attempt the limiter let through, counted as a failure until it proves otherwise. */
export interface Admitted {
  /** The credentials were right (or were never judged): the failure counted for it is taken back. */
  refund(): void;
}

/**
 * Failed sign-ins counted per key (a client address, a username) in fixed one-minute windows, in
 * this process's memory: once a key has `perMinute` failures in a window, every attempt with it is
 * refused until the window ends, right credentials included, so guessing is throttled without
 * telling the guesser anything. A username's limit applies from every address.
 *
 * An attempt is counted as a failure when it is admitted, before its credentials are checked, and
 * a success gives the count back: checking a password takes long (scrypt), and attempts that
 * arrive together must not all pass the check before the first failure is counted.
 */
export class SignInLimiter {
  private readonly windows = new LRUCache<string, Window>({ max: MAX_KEYS });

  constructor(
    private readonly perMinute: number,
    private readonly now: Clock,
  ) {}

  /**
   * Admits an attempt with these keys, counting it as a failure of each at once; or, when one of
   * them is blocked, counts nothing and returns how long until they may try again (ms).
   */
  admit(keys: readonly string[]): Admitted | number {
    const now = this.now();
    const current = keys.map((key) => {
      const w = this.windows.get(key);
      return w && now - w.start < WINDOW_MS ? w : undefined;
    });
    let wait = 0;
    for (const w of current) if (w && w.failures >= this.perMinute) wait = Math.max(wait, w.start + WINDOW_MS - now);
    if (wait > 0) return wait;
    const counted = keys.map((key, i) => {
      const w = current[i] ?? { start: now, failures: 0 };
      w.failures += 1;
      this.windows.set(key, w);
      return w;
    });
    let refunded = false;
    return {
      refund: () => {
        if (refunded) return;
        refunded = true;
        // A window that has ended since is no longer consulted: taking from it changes nothing.
        for (const w of counted) w.failures -= 1;
      },
    };
  }
}
