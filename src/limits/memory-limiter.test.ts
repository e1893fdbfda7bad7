import { beforeEach, describe, expect, it } from 'vitest';
import { admission, limits } from '../../test/helpers/limiters.js';
import type { Admission, AdmitResult } from './limits.js';
import { MemoryLimiter } from './memory-limiter.js';

/** The last minute of January (UTC): a day and a month end one minute later. */
const T0 = Date.UTC(2026, 0, 31, 23, 59);

/** The limiters' clock: each test starts at T0 and moves it. */
let now = T0;
beforeEach(() => {
  now = T0;
});
const clock = () => now;

/** A limiter whose store reports `spent` for every subject and period, recording each read. */
function setup(spent = 0) {
  const reads: Array<[string, number]> = [];
  const limiter = new MemoryLimiter(async (s, from) => {
    reads.push([`${s.kind}:${s.id}`, from]);
    return spent;
  }, clock);
  return { limiter, reads };
}

/** The synchronous fast path: fails the test if the limiter answered with a promise. */
function admitSync(l: MemoryLimiter, a: Admission): AdmitResult {
  const r = l.admit(a);
  if (r instanceof Promise) throw new Error('expected a synchronous decision');
  return r;
}

/** What only the memory backend does; the contract every backend keeps is test/limits/limiter-contract.test.ts. */
describe('MemoryLimiter', () => {
  it('decides synchronously; only a budget not yet seeded waits for the store, once for concurrent requests', async () => {
    const { limiter, reads } = setup(5);
    expect(admitSync(limiter, admission([limits()])).ok).toBe(true);
    const budgeted = [limits({ budgetNanoUsd: 100, budgetPeriod: 'day' })];
    const first = limiter.admit(admission(budgeted));
    const second = limiter.admit(admission(budgeted));
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBeInstanceOf(Promise);
    expect([(await first).ok, (await second).ok]).toEqual([true, true]);
    expect(reads).toEqual([['token:tok', Date.UTC(2026, 0, 31)]]);
    expect(admitSync(limiter, admission(budgeted)).ok).toBe(true);
    expect(reads).toHaveLength(1);
  });
});
