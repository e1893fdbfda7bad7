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
    expect(costOf({ input: 0.013, output: 0 }, t(1, 0))).toBe(13);
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
    expect(layered.cost('gpt-4o-2024-08-06', t(10, 10))).toBe(60_000);
    expect(layered.entries().find((e) => e.model === 'gpt-4o')?.source).toBe('override');
    expect(layered.entries().find((e) => e.model === 'local-llm')?.source).toBe('file');
    expect(layered.entries().find((e) => e.model === 'gpt-4o-mini')?.source).toBe('built_in');
    expect(layered.aliasMap()['gpt-4-turbo-preview']).toBe('gpt-4-turbo');
    writeFileSync(file, JSON.stringify({ models: { x: { input: -1, output: 1 } } }));
    expect(() => PricingTable.load(file)).toThrow(/models\.x\.input/);
  });
});

const none = { promptTokens: null, completionTokens: null, cachedTokens: null, reasoningTokens: null };

describe('prices of every billed unit (nano-dollars)', () => {
  it('prices audio and image tokens at their own rates, cached shares at the cached rates', () => {
    // gpt-realtime: text 4 / cached 0.4 / out 16; audio 32 / cached 0.4 / out 64; image 5 / cached 0.5.
    const u = {
      promptTokens: 1000,
      completionTokens: 500,
      cachedTokens: 300,
      reasoningTokens: 0,
      units: {
        audio_input_tokens: 600,
        cached_audio_input_tokens: 200,
        image_input_tokens: 100,
        cached_image_input_tokens: 50,
        audio_output_tokens: 400,
      },
    };
    // text in 300 (cached 50), audio in 600 (cached 200), image in 100 (cached 50); text out 100, audio out 400.
    const micro = 250 * 4 + 50 * 0.4 + 400 * 32 + 200 * 0.4 + 50 * 5 + 50 * 0.5 + 100 * 16 + 400 * 64;
    expect(table.cost('gpt-realtime-2025-08-28', u)).toBe(Math.round(micro * 1000));
    // Without audio rates (an older price), audio tokens cost what text tokens do, as before.
    expect(costOf({ input: 1, output: 2 }, u)).toBe((1000 * 1 + 500 * 2) * 1000);
    // Chat with audio: gpt-4o-audio-preview audio in 40, out 80.
    expect(
      table.cost('gpt-4o-audio-preview', {
        ...t(120, 80),
        units: { audio_input_tokens: 100, audio_output_tokens: 60 },
      }),
    ).toBe((20 * 2.5 + 100 * 40 + 20 * 10 + 60 * 80) * 1000);
  });

  it('prices images by size and quality when no tokens are reported, the dearest for an unknown size or quality', () => {
    const img = (images: number, size?: string, quality?: string) => ({ ...none, units: { images, size, quality } });
    expect(table.cost('dall-e-3', img(2, '1024x1024', 'hd'))).toBe(160_000_000); // 2 × $0.08
    expect(table.cost('dall-e-3', img(1))).toBe(40_000_000); // 1024x1024 standard by default
    expect(table.cost('dall-e-3', img(1, '1792x1024'))).toBe(80_000_000);
    expect(table.cost('dall-e-3', img(1, '4096x4096', 'hd'))).toBe(120_000_000); // unknown size: dearest hd
    expect(table.cost('dall-e-2', img(3, '256x256'))).toBe(48_000_000);
    expect(table.cost('gpt-image-1', img(1, '1024x1536', 'auto'))).toBe(250_000_000); // auto: dearest
    // gpt-image-1 reports tokens: priced by them (image output at $40/1M), never also per image.
    expect(
      table.cost('gpt-image-1', {
        ...t(20, 4160),
        units: { images: 1, size: '1024x1024', quality: 'high', image_output_tokens: 4160 },
      }),
    ).toBe((20 * 5 + 4160 * 40) * 1000);
  });

  it('prices minutes of audio and characters of speech', () => {
    expect(table.cost('whisper-1', { ...none, units: { seconds: 12.5 } })).toBe(1_250_000); // 12.5 s × $0.006/60
    expect(table.cost('whisper-1', { ...none, units: { seconds: 60 } })).toBe(6_000_000);
    expect(table.cost('tts-1', { ...none, units: { characters: 300 } })).toBe(4_500_000); // 300 × $15/1M
    expect(table.cost('tts-1-hd', { ...none, units: { characters: 1 } })).toBe(30_000);
    // gpt-4o-transcribe reports tokens: audio input at $6/1M, its per-minute estimate unused.
    expect(table.cost('gpt-4o-transcribe', { ...t(100, 20), units: { seconds: 10, audio_input_tokens: 100 } })).toBe(
      (100 * 6 + 20 * 10) * 1000,
    );
  });

  it('adds tool fees per call by model family, code interpreter per container', () => {
    const calls = (u: object) => ({ ...t(1000, 100), units: u });
    const base = (1000 * 2.5 + 100 * 10) * 1000;
    expect(table.cost('gpt-4o', calls({ web_search: 2 }))).toBe(base + 2 * 25_000_000); // $25/1k
    expect(table.cost('gpt-4o-mini-2024-07-18', calls({ web_search: 1 }))).toBe(
      (1000 * 0.15 + 100 * 0.6) * 1000 + 25_000_000,
    );
    expect(table.cost('gpt-5', calls({ web_search: 1 }))).toBe((1000 * 1.25 + 100 * 10) * 1000 + 10_000_000);
    expect(table.cost('gpt-4o', calls({ file_search: 4, code_interpreter: 1 }))).toBe(
      base + 4 * 2_500_000 + 30_000_000,
    );
    expect(table.toolFeesOf('gpt-4.1-nano').web_search).toBe(25);
    expect(table.toolFeesOf('o3').web_search).toBe(10);
  });

  it('prices service tiers: flex and batch at half, priority at the model’s own rates', () => {
    const tier = (serviceTier: string) => ({ ...t(1000, 1000, 200), serviceTier });
    const std = table.cost('gpt-5', tier('default')) as number;
    expect(std).toBe((800 * 1.25 + 200 * 0.125 + 1000 * 10) * 1000);
    expect(table.cost('gpt-5', tier('flex'))).toBe(std / 2);
    expect(table.cost('gpt-5', tier('batch'))).toBe(std / 2);
    expect(table.cost('gpt-5', tier('priority'))).toBe((800 * 2.5 + 200 * 0.25 + 1000 * 20) * 1000);
    // A model without priority rates is charged its standard rates (OpenAI serves it at default).
    expect(table.cost('gpt-5-nano', tier('priority'))).toBe(table.cost('gpt-5-nano', tier('default')));
  });

  it('is exact in nano-dollars where micro-dollars would round to zero', () => {
    // 3 embedding tokens at $0.02/1M: 0.06 micro-dollars.
    expect(table.cost('text-embedding-3-small', t(3, 0))).toBe(60);
    expect(table.cost('dall-e-3', { ...none, units: { images: 1 } })).toBe(40_000_000);
  });

  it('loads files of the older format and refuses bad units', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pricing-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ models: { m: { input: 1, output: 2 } } }));
    expect(PricingTable.load(file).cost('m', t(1, 1))).toBe(3000);
    writeFileSync(
      file,
      JSON.stringify({ models: { m: { input: 1, output: 2, per_image: { '1024x1024': { hd: -1 } } } } }),
    );
    expect(() => PricingTable.load(file)).toThrow(/models\.m\.per_image/);
    writeFileSync(file, JSON.stringify({ models: {}, tools: { web_search: { per_1k_calls: 'ten' } } }));
    expect(() => PricingTable.load(file)).toThrow(/tools\.web_search/);
  });
});
