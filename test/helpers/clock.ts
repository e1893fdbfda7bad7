import type { Clock } from '../../src/shared/clock.js';

/** A clock that stands still until the test moves it, so nothing depends on how fast the machine is. */
export interface ManualClock {
  now: Clock;
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}
