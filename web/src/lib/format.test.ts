import { describe, expect, it } from 'vitest';
import { bytes, compact, ms, plural, relative, span, usd } from './format';

describe('formatting', () => {
  it('shows dollars to the cent from a dollar up, to the micro-dollar below, to the nano-dollar below that', () => {
    expect(usd('0.000023')).toBe('$0.000023');
    expect(usd('0.000000060')).toBe('$0.00000006');
    expect(usd(0.000000001)).toBe('$0.000000001');
    expect(usd('0.0123')).toBe('$0.0123');
    expect(usd('65.214318')).toBe('$65.21');
    expect(usd(1234.5)).toBe('$1,234.50');
    expect(usd('0.000000')).toBe('$0.00');
    expect(usd(null)).toBe('–');
  });

  it('keeps an amount derived from a smaller one as precise as that one (a budget left after a tiny spend)', () => {
    expect(usd(4.997999, { alongside: 0.002001 })).toBe('$4.997999');
    expect(usd('4.9877', { alongside: '0.0123' })).toBe('$4.9877');
    expect(usd(3.77, { alongside: 1.23 })).toBe('$3.77');
    expect(usd(5, { alongside: 0 })).toBe('$5.00');
    expect(usd(4.99987655, { alongside: 0.00012345 })).toBe('$4.99987655');
  });

  it('shows set amounts (prices, budgets) with every decimal they have, as currency', () => {
    expect(usd(0.4, { exact: true })).toBe('$0.40');
    expect(usd(0.075, { exact: true })).toBe('$0.075');
    expect(usd(1.125, { exact: true })).toBe('$1.125');
    expect(usd(10, { exact: true })).toBe('$10.00');
    expect(usd(0.000001, { exact: true })).toBe('$0.000001');
  });

  it('says spans of time in at most two units', () => {
    expect(span(45_000)).toBe('45 s');
    expect(span(5 * 60_000 + 7_000)).toBe('5 min 7 s');
    expect(span(23 * 3_600_000 + 59 * 60_000)).toBe('23 h 59 min');
    expect(span(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
    expect(relative(new Date(1_000_000 + 7_200_000).toISOString(), 1_000_000)).toBe('in 2 h');
    expect(relative(new Date(1_000_000 - 90_000).toISOString(), 1_000_000)).toBe('1 min 30 s ago');
    expect(relative(null)).toBe('–');
  });

  it('shortens big counts, sizes and durations', () => {
    expect(compact(9_999)).toBe('9,999');
    expect(compact(206_400)).toBe('206.4K');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(ms(12)).toBe('12 ms');
    expect(ms(2500)).toBe('2.5 s');
  });

  it('names a count with its noun', () => {
    expect([0, 1, 2].map((n) => plural(n, 'token'))).toEqual(['0 tokens', '1 token', '2 tokens']);
  });
});
