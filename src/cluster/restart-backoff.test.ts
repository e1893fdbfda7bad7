import { describe, expect, it } from 'vitest';
import { RestartBackoff, STABLE_MS } from './restart-backoff.js';

describe('replacing dead workers', () => {
  it('at once after a stable run; doubling from 0.5 s to 30 s while a slot keeps dying young', () => {
    const b = new RestartBackoff();
    expect(b.next(0, STABLE_MS)).toBe(0);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next(0, 100))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    // Another slot has its own count; a stable run starts over.
    expect(b.next(1, 100)).toBe(500);
    expect(b.next(0, STABLE_MS + 1)).toBe(0);
    expect(b.next(0, 100)).toBe(500);
  });
});
