import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { mockChatPrompt, nanoUsd, postJson } from './helpers.js';

// Big enough counts that every rate shows in the integer result.
const CONTENT = 'x'.repeat(4000); // 1000 tokens to the mock
const CHUNKS = 700;

/** An operator pricing file: a new model with every rate, and a changed price for a shipped one. */
const dir = mkdtempSync(path.join(tmpdir(), 'llmp-pricing-'));
const PRICING_FILE = path.join(dir, 'prices.json');
writeFileSync(
  PRICING_FILE,
  JSON.stringify({
    as_of: '2030-01-01',
    models: {
      'house-reasoner': { input: 1.5, cached_input: 0.25, output: 6, reasoning: 9 },
      'gpt-4.1-nano': { input: 7, output: 11 },
      // Fractions of a nano-dollar per token: the rounding of one request's cost shows.
      'house-tiny': { input: 0.00015, output: 0.0006 },
    },
    aliases: { 'house-latest': 'house-reasoner' },
  }),
);

/** An upstream that answers with whatever usage the test puts in the x-usage header. */
const scripted = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({
      object: 'chat.completion',
      model: req.headers['x-model'],
      choices: [],
      usage: JSON.parse(String(req.headers['x-usage'])),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
});

let st: ProxyStack;
let scriptedToken: { id: string; token: string };
beforeAll(async () => {
  await new Promise<void>((resolve) => scripted.listen(0, '127.0.0.1', resolve));
  st = await startProxyStack({ env: { PRICING_FILE } });
  scriptedToken = await st.addProject('scripted', `http://127.0.0.1:${(scripted.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await st.stop();
  await new Promise<void>((resolve) => scripted.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function chatRecord(model: string) {
  const res = await st.client.chat.completions
    .create({ model, messages: [{ role: 'user', content: CONTENT }] }, { headers: { 'x-mock-chunks': String(CHUNKS) } })
    .withResponse();
  return st.recordOf(res.response);
}

describe('cost per usage record = the price table arithmetic, in integer nano-dollars', () => {
  const prompt = mockChatPrompt([CONTENT]);

  for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-3.5-turbo']) {
    it(`chat with ${model}`, async () => {
      const rec = await chatRecord(model);
      expect(rec).toMatchObject({ model, prompt_tokens: prompt, completion_tokens: CHUNKS, usage_status: 'reported' });
      expect(rec.cost_nano_usd).toBe(nanoUsd(model, prompt, CHUNKS));
      expect(Number.isInteger(rec.cost_nano_usd)).toBe(true);
    });
  }

  it('dated snapshots price as their model, aliases as their target', async () => {
    expect((await chatRecord('gpt-4o-2024-08-06')).cost_nano_usd).toBe(nanoUsd('gpt-4o', prompt, CHUNKS));
    expect((await chatRecord('gpt-4o-mini-2024-07-18')).cost_nano_usd).toBe(nanoUsd('gpt-4o-mini', prompt, CHUNKS));
    expect((await chatRecord('gpt-4-turbo-preview')).cost_nano_usd).toBe(nanoUsd('gpt-4-turbo', prompt, CHUNKS));
  });

  it('an embedding: input only', async () => {
    const res = await st.client.embeddings
      .create({ model: 'text-embedding-3-small', input: [CONTENT, CONTENT] })
      .withResponse();
    const rec = await st.recordOf(res.response);
    expect(rec).toMatchObject({ prompt_tokens: 2000, completion_tokens: null, total_tokens: 2000 });
    expect(rec.cost_nano_usd).toBe(nanoUsd('text-embedding-3-small', 2000, 0));
    expect(rec.cost_nano_usd).toBe(40_000);
  });

  it('a Responses API call (input_tokens / output_tokens)', async () => {
    const res = await st.client.responses
      .create(
        { model: 'gpt-4.1-mini', input: CONTENT, instructions: 'Be brief.' },
        { headers: { 'x-mock-chunks': '300' } },
      )
      .withResponse();
    const rec = await st.recordOf(res.response);
    const input = 1000 + 3 + 4; // input + instructions + 4 per item
    expect(rec).toMatchObject({ prompt_tokens: input, completion_tokens: 300 });
    expect(rec.cost_nano_usd).toBe(nanoUsd('gpt-4.1-mini', input, 300));
  });

  it('a legacy completion and a token-priced transcription', async () => {
    const c = await postJson(
      st,
      '/v1/completions',
      st.token,
      JSON.stringify({ model: 'gpt-3.5-turbo-instruct', prompt: CONTENT }),
      { 'x-mock-chunks': '50' },
    );
    expect((await st.recordOf(c)).cost_nano_usd).toBe(nanoUsd('gpt-3.5-turbo-instruct', 1000, 50));

    const tr = await st.client.audio.transcriptions
      .create({ model: 'gpt-4o-transcribe', file: await toFile(Buffer.alloc(40_000, 1), 'a.mp3') })
      .withResponse();
    const text = 'Mock transcription of 40000 bytes of audio.';
    const audioTokens = Math.ceil(40_000 / 16_000) * 10;
    const rec = await st.recordOf(tr.response);
    expect(rec).toMatchObject({
      model: 'gpt-4o-transcribe',
      prompt_tokens: audioTokens,
      completion_tokens: Math.ceil(text.length / 4),
    });
    // The input is all audio: at the audio input rate ($6 per 1M), not the text rate.
    expect(rec.cost_nano_usd).toBe((audioTokens * 6 + Math.ceil(text.length / 4) * 10) * 1000);
  });

  it('an image generation (the response names no model: priced by the request)', async () => {
    const img = await st.client.images
      .generate({ model: 'gpt-image-1', prompt: 'a red fox in the snow', quality: 'high', n: 2 })
      .withResponse();
    const rec = await st.recordOf(img.response);
    const input = Math.ceil('a red fox in the snow'.length / 4);
    expect(rec).toMatchObject({ model: 'gpt-image-1', prompt_tokens: input, completion_tokens: 2 * 4160 });
    expect(rec.cost_nano_usd).toBe(nanoUsd('gpt-image-1', input, 2 * 4160));
  });

  it('an unknown model is recorded with its tokens and a null cost, never 0', async () => {
    const rec = await chatRecord('my-fine-tuned-thing');
    expect(rec).toMatchObject({ prompt_tokens: prompt, completion_tokens: CHUNKS, usage_status: 'reported' });
    expect(rec.cost_nano_usd).toBeNull();

    // The hourly rollup counts the request as unpriced and adds nothing to its cost.
    const rollup = await st.s.server.runtime.db
      .selectFrom('usage_rollups')
      .selectAll()
      .where('token_id', '=', st.tokenId)
      .where('model', '=', 'my-fine-tuned-thing')
      .executeTakeFirstOrThrow();
    expect(rollup).toMatchObject({ requests: 1, unpriced_requests: 1, cost_nano_usd: 0 });
  });

  it('a response without usage is recorded as missing, with a null cost', async () => {
    const res = await st.proxy('/v1/models', {});
    const rec = await st.recordOf(res);
    expect(rec).toMatchObject({ usage_status: 'missing', total_tokens: null, cost_nano_usd: null });
  });
});

describe('cached and reasoning tokens, and an operator pricing file', () => {
  async function scriptedRecord(model: string, usage: object) {
    const res = await st.proxy('/v1/chat/completions', {
      method: 'POST',
      token: scriptedToken.token,
      headers: { 'content-type': 'application/json', 'x-model': model, 'x-usage': JSON.stringify(usage) },
      body: JSON.stringify({ model, messages: [] }),
    });
    expect(res.status).toBe(200);
    return st.recordOf(res, scriptedToken.id);
  }

  it('cached input at the cached rate; reasoning billed as output where no reasoning rate is set', async () => {
    const rec = await scriptedRecord('gpt-4o', {
      prompt_tokens: 1000,
      completion_tokens: 500,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 400 },
      completion_tokens_details: { reasoning_tokens: 200 },
    });
    expect(rec).toMatchObject({ cached_tokens: 400, reasoning_tokens: 200 });
    // (600 × 2.5 + 400 × 1.25 + 500 × 10) µ$ = (1500 + 500 + 5000) µ$
    expect(rec.cost_nano_usd).toBe(7_000_000);
    expect(rec.cost_nano_usd).toBe(nanoUsd('gpt-4o', 1000, 500, 400, 200));

    const o4 = await scriptedRecord('o4-mini-2025-04-16', {
      input_tokens: 2000,
      output_tokens: 1000,
      input_tokens_details: { cached_tokens: 1000 },
      output_tokens_details: { reasoning_tokens: 800 },
    });
    // (1000 × 1.1 + 1000 × 0.275 + 1000 × 4.4) µ$ = (1100 + 275 + 4400) µ$
    expect(o4.cost_nano_usd).toBe(5_775_000);
  });

  it('PRICING_FILE adds models (with a reasoning rate and aliases) and overrides shipped prices', async () => {
    const usage = {
      prompt_tokens: 1000,
      completion_tokens: 500,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 200 },
      completion_tokens_details: { reasoning_tokens: 300 },
    };
    // (800 × 1.5 + 200 × 0.25 + 200 × 6 + 300 × 9) µ$ = (1200 + 50 + 1200 + 2700) µ$
    expect((await scriptedRecord('house-reasoner', usage)).cost_nano_usd).toBe(5_150_000);
    expect((await scriptedRecord('house-latest', usage)).cost_nano_usd).toBe(5_150_000);
    expect((await scriptedRecord('house-reasoner-2031-02-03', usage)).cost_nano_usd).toBe(5_150_000);
    // gpt-4.1-nano at the file's 7 / 11 instead of the shipped 0.1 / 0.4 (no cached rate: input rate).
    expect((await scriptedRecord('gpt-4.1-nano', usage)).cost_nano_usd).toBe((1000 * 7 + 500 * 11) * 1000);
  });

  it('fractions of a micro-dollar are kept: a request costing less than one is not rounded to 0', async () => {
    // (3 × 0.15 + 1 × 0.6) µ$ = 1.05 µ$; (7 × 0.15 + 2 × 0.6) µ$ = 2.25 µ$; (1 × 0.15 + 4 × 0.6) µ$ = 2.55 µ$;
    // 1 × 0.15 µ$ = 150 n$ (micro-dollars rounded that to 0).
    const cases: Array<[number, number, number]> = [
      [3, 1, 1050],
      [7, 2, 2250],
      [1, 4, 2550],
      [1, 0, 150],
    ];
    for (const [p, c, expected] of cases) {
      const rec = await scriptedRecord('gpt-4o-mini', { prompt_tokens: p, completion_tokens: c, total_tokens: p + c });
      expect([p, c, rec.cost_nano_usd]).toEqual([p, c, expected]);
    }
  });

  it('fractions of a nano-dollar are rounded once per request, half up', async () => {
    // 3 × 0.15 + 1 × 0.6 = 1.05 n$ → 1; 7 × 0.15 + 2 × 0.6 = 2.25 n$ → 2; 1 × 0.15 + 4 × 0.6 = 2.55 n$ → 3
    const cases: Array<[number, number, number]> = [
      [3, 1, 1],
      [7, 2, 2],
      [1, 4, 3],
    ];
    for (const [p, c, expected] of cases) {
      const rec = await scriptedRecord('house-tiny', { prompt_tokens: p, completion_tokens: c, total_tokens: p + c });
      expect([p, c, rec.cost_nano_usd]).toEqual([p, c, expected]);
    }
  });
});
