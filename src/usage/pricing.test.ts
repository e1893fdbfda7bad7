import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { costOf, PricingTable } from './pricing.js';

const table = PricingTable.load();
const t = (p: number, c: number, cached = 0, reasoning = 0) => ({
  promptTokens: p,
  completionTokens: c,
  cachedTokens: cached,
  reasoningTokens: reasoning,
});

describe('pricing', () => {
  it('prices each model family from the shipped table, in integer nano-dollars', () => {
    // 1M input + 1M output tokens cost exactly the per-1M prices ($12.50 is 12.5e9 n$).
    expect(table.cost('gpt-4o', t(1_000_000, 1_000_000))).toBe(12_500_000_000);
    expect(table.cost('gpt-4o-mini', t(1_000_000, 1_000_000))).toBe(750_000_000);
    // Prices are micro-dollars per token: × 1000 for nano-dollars.
    expect(table.cost('gpt-4.1', t(1000, 500))).toBe((2000 * 1 + 500 * 8) * 1000);
    expect(table.cost('gpt-5', t(2000, 1000, 1000))).toBe((1000 * 1.25 + 1000 * 0.125 + 1000 * 10) * 1000);
    expect(table.cost('o3', t(100, 1000, 0, 800))).toBe((100 * 2 + 1000 * 8) * 1000); // reasoning billed as output
    expect(table.cost('o1', t(10, 10))).toBe(750_000);
    expect(table.cost('text-embedding-3-small', t(1_000_000, 0))).toBe(20_000_000);
    expect(table.cost('gpt-image-1', t(100, 4000))).toBe((100 * 5 + 4000 * 40) * 1000);
    expect(table.cost('gpt-3.5-turbo', t(3, 3))).toBe(6000);
    expect(table.cost('omni-moderation-latest', t(500, 0))).toBe(0);
    // The case: 3 embedding tokens at $0.02 per 1M are 0.06 µ$, which micro-dollars rounded to 0.
    expect(table.cost('text-embedding-3-small', t(3, 0))).toBe(60);
  });

  it('resolves dated snapshots and aliases; unknown models have no cost (null, not zero)', () => {
    expect(table.resolve('gpt-4o-2024-08-06')?.name).toBe('gpt-4o');
    expect(table.resolve('gpt-4o-mini-2024-07-18')?.name).toBe('gpt-4o-mini');
    expect(table.resolve('gpt-3.5-turbo-0125')?.name).toBe('gpt-3.5-turbo');
    expect(table.resolve('gpt-4-turbo-preview')?.name).toBe('gpt-4-turbo');
    expect(table.cost('gpt-4o-2024-08-06', t(10, 10))).toBe(table.cost('gpt-4o', t(10, 10)));
    expect(table.cost('my-local-llama', t(10, 10))).toBeNull();
    expect(table.cost('ft:gpt-4o-mini-2024-07-18:org::abc', t(10, 10))).toBeNull();
    expect(table.cost(null, t(10, 10))).toBeNull();
  });

  it('rounds once per request and prices cached and separately priced reasoning tokens', () => {
    expect(costOf({ input: 0.00015, output: 0.0006 }, t(3, 1))).toBe(1); // 0.45 + 0.6 = 1.05 n$
    expect(costOf({ input: 0.15, output: 0.6 }, t(3, 1))).toBe(1050); // 1.05 µ$: kept whole
    expect(costOf({ input: 1, cached_input: 0.5, output: 2, reasoning: 4 }, t(10, 10, 4, 3))).toBe(
      (6 + 2 + 14 + 12) * 1000,
    );
    expect(
      costOf(
        { input: 1, output: 1 },
        { promptTokens: null, completionTokens: null, cachedTokens: null, reasoningTokens: null },
      ),
    ).toBe(0);
  });

  it('layers an operator file and management overrides over the shipped table', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pricing-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'p.json');
    writeFileSync(
      file,
      JSON.stringify({
        as_of: '2026-11-01',
        models: { 'gpt-4o': { input: 1, output: 1 }, 'local-llm': { input: 0.5, output: 0.5 } },
      }),
    );
    const layered = PricingTable.load(file);
    expect(layered.asOf).toBe('2026-11-01');
    expect(layered.cost('gpt-4o', t(10, 10))).toBe(20_000);
    expect(layered.cost('local-llm', t(10, 10))).toBe(10_000);
    layered.setOverrides([['gpt-4o', { input: 3, output: 3 }]]);
    expect(layered.cost('gpt-4o-2024-05-13', t(10, 10))).toBe(60_000);
    expect(layered.entries().find((e) => e.model === 'gpt-4o')?.source).toBe('override');
    expect(layered.entries().find((e) => e.model === 'local-llm')?.source).toBe('file');
    expect(layered.entries().find((e) => e.model === 'gpt-4o-mini')?.source).toBe('built_in');
    expect(layered.aliasMap()['gpt-4-turbo-preview']).toBe('gpt-4-turbo');
    writeFileSync(file, JSON.stringify({ models: { x: { input: -1, output: 1 } } }));
    expect(() => PricingTable.load(file)).toThrow(/models\.x\.input/);
  });
});
