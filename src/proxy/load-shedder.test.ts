import { describe, expect, it } from 'vitest';
import { LoadShedder, RESUME_AFTER_MS } from './load-shedder.js';

describe('LoadShedder', () => {
  const setup = (limit: number) => {
    const state = { inFlight: 0, now: 0 };
    const shedder = new LoadShedder(
      limit,
      () => state.inFlight,
      () => state.now,
    );
    return { state, shedder };
  };

  it('sheds a request arriving at the limit, and only then', () => {
    const { shedder } = setup(10);
    expect(shedder.refuses(9)).toBe(false);
    expect(shedder.shedding).toBe(false);
    expect(shedder.refuses(10)).toBe(true);
    expect(shedder.refuses(11)).toBe(true);
    expect(shedder.shed).toBe(2);
    expect(shedder.shedding).toBe(true);
  });

  it('stays shedding until in flight has fallen to 90% and nothing was shed for a while', () => {
    const { state, shedder } = setup(20);
    expect(shedder.resumeAt).toBe(18);
    shedder.refuses(20);
    // Load has dropped, but only just below the limit: still shedding however long that lasts.
    state.inFlight = 19;
    state.now += RESUME_AFTER_MS * 10;
    expect(shedder.shedding).toBe(true);
    // At 90%, but a request was shed a moment ago: still shedding until the time has passed too.
    shedder.refuses(20);
    state.inFlight = 18;
    state.now += RESUME_AFTER_MS - 1;
    expect(shedder.shedding).toBe(true);
    state.now += 1;
    expect(shedder.shedding).toBe(false);
    // Under the limit requests pass and it stays ready; a new shed latches again.
    expect(shedder.refuses(19)).toBe(false);
    expect(shedder.shedding).toBe(false);
    expect(shedder.refuses(20)).toBe(true);
    expect(shedder.shedding).toBe(true);
  });
});
