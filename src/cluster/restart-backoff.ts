/** A worker that lived at least this long before dying is replaced at once: it was not a crash loop. */
export const STABLE_MS = 30_000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/**
 * How long to wait before replacing a dead worker, per slot: at once after one that ran for a while,
 * then doubling from 0.5 s to 30 s while replacements keep dying within STABLE_MS, so a worker that
 * crashes at start (a bad upstream, a full disk) does not spin a core.
 */
export class RestartBackoff {
  private readonly quickDeaths = new Map<number, number>();

  /** The delay before replacing `slot`'s worker, which lived `livedMs`. */
  next(slot: number, livedMs: number): number {
    if (livedMs >= STABLE_MS) {
      this.quickDeaths.set(slot, 0);
      return 0;
    }
    const n = (this.quickDeaths.get(slot) ?? 0) + 1;
    this.quickDeaths.set(slot, n);
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (n - 1));
  }
}
