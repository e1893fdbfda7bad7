import { describe, expect, it } from 'vitest';
import { manualClock } from '../../test/helpers/clock.js';
import { backoffMs, RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  it('allows retries as a share of requests, beyond the minimum', () => {
    const clock = manualClock();
    const budget = new RetryBudget(10, 0, clock.now);
    expect(budget.withdraw()).toBe(false);
    for (let i = 0; i < 100; i++) budget.deposit();
    let allowed = 0;
    while (budget.withdraw()) allowed++;
    // 100 requests × 10 %, give or take the float sum's last bit.
    expect(allowed).toBeGreaterThanOrEqual(9);
    expect(allowed).toBeLessThanOrEqual(10);
    expect(budget.exhausted).toBe(1 + 1);
  });

  it('banks at most the share of about a thousand requests', () => {
    const budget = new RetryBudget(10, 0, manualClock().now);
    for (let i = 0; i < 100_000; i++) budget.deposit();
    let allowed = 0;
    while (budget.withdraw()) allowed++;
    expect(allowed).toBe(100);
  });

  it('lets a quiet proxy retry the minimum per second, refilled by the clock, never more than a second’s worth', () => {
    const clock = manualClock();
    const budget = new RetryBudget(10, 4, clock.now);
    for (let i = 0; i < 4; i++) expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(false);
    clock.advance(500);
    expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(false);
    clock.advance(60_000);
    let allowed = 0;
    while (budget.withdraw()) allowed++;
    expect(allowed).toBe(4);
    expect(budget.exhausted).toBe(3);
  });

  it('with 0 % and no minimum never retries', () => {
    const budget = new RetryBudget(0, 0, manualClock().now);
    for (let i = 0; i < 1000; i++) budget.deposit();
    expect(budget.withdraw()).toBe(false);
  });
});

describe('backoffMs (full jitter)', () => {
  it('is uniform under base × 2^(n-1), capped', () => {
    expect(backoffMs(1, 100, 2000, () => 0.999)).toBe(99);
    expect(backoffMs(2, 100, 2000, () => 0.5)).toBe(100);
    expect(backoffMs(3, 100, 2000, () => 0.999)).toBe(399);
    expect(backoffMs(10, 100, 2000, () => 0.999)).toBe(1998);
    expect(backoffMs(60, 100, 2000, () => 0.5)).toBe(1000);
    expect(backoffMs(4, 100, 2000, () => 0)).toBe(0);
  });
});
