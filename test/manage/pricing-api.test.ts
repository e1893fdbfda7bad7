import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, PricingTable } from '../../src/usage/pricing.js';
import { spawnCli } from '../helpers/cli.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { startTestServer } from '../helpers/server.js';

const builtIn = PricingTable.load();
const messages = [{ role: 'user' as const, content: 'price me' }];

describe('pricing API', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { MAINTENANCE_INTERVAL_MS: '0' } });
  });
  afterAll(async () => st?.stop());

  /** One chat completion through the proxy; its usage record. */
  const chat = async (model: string) => {
    const { response } = await st.client.chat.completions.create({ model, messages }).withResponse();
    return st.recordOf(response);
  };
  const counts = (r: { prompt_tokens: number | null; completion_tokens: number | null }) => ({
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    cachedTokens: 0,
    reasoningTokens: 0,
  });

  it('lists the effective table: built-in prices, aliases and as_of', async () => {
    const res = await st.s.manage('GET', '/pricing');
    expect(res.status).toBe(200);
    expect(res.body.as_of).toBe(builtIn.asOf);
    expect(res.body.data.find((p: { model: string }) => p.model === 'gpt-4o')).toEqual({
      model: 'gpt-4o',
      source: 'built_in',
      input: 2.5,
      cached_input: 1.25,
      output: 10,
      reasoning: null,
      audio_input: null,
      cached_audio_input: null,
      audio_output: null,
      image_input: null,
      cached_image_input: null,
      image_output: null,
      per_image: null,
      per_minute: null,
      per_1m_characters: null,
      tiers: { priority: { input: 4.25, cached_input: 2.125, output: 17 } },
      updated_at: null,
    });
    expect(res.body.data.find((p: { model: string }) => p.model === 'dall-e-3')).toMatchObject({
      input: 0,
      output: 0,
      per_image: { '1024x1024': { standard: 0.04, hd: 0.08 } },
    });
    expect(res.body.data.find((p: { model: string }) => p.model === 'whisper-1')).toMatchObject({ per_minute: 0.006 });
    expect(res.body.tools.web_search).toEqual({ per_1k_calls: 10, models: { 'gpt-4o': 25, 'gpt-4.1': 25 } });
    expect(res.body.service_tiers).toEqual({ batch: 0.5, flex: 0.5 });
    expect(res.body.data).toHaveLength(builtIn.entries().length);
    expect(res.body.aliases['gpt-4-turbo-preview']).toBe('gpt-4-turbo');
  });

  it('an override changes the cost of the very next request; deleting it restores the built-in price', async () => {
    const before = await chat('gpt-4o');
    expect(before.cost_nano_usd).toBe(builtIn.cost('gpt-4o', counts(before)));

    const put = await st.s.manage('PUT', '/pricing/gpt-4o', { input: 100, output: 400, cached_input: 50 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ model: 'gpt-4o', source: 'override', input: 100, output: 400, cached_input: 50 });
    expect(Date.parse(put.body.updated_at)).toBeGreaterThan(Date.now() - 60_000);

    const during = await chat('gpt-4o');
    expect(during.cost_nano_usd).toBe(costOf({ input: 100, output: 400 }, counts(during)));
    expect(during.cost_nano_usd).not.toBe(before.cost_nano_usd);
    // Dated snapshots are priced as their undated model, override included.
    const snapshot = await chat('gpt-4o-2024-08-06');
    expect(snapshot.cost_nano_usd).toBe(costOf({ input: 100, output: 400 }, counts(snapshot)));
    const listed = (await st.s.manage('GET', '/pricing')).body.data.filter(
      (p: { model: string }) => p.model === 'gpt-4o',
    );
    expect(listed).toEqual([put.body]);

    // Replacing an override replaces it whole.
    expect((await st.s.manage('PUT', '/pricing/gpt-4o', { input: 1, output: 2 })).body).toMatchObject({
      cached_input: null,
      input: 1,
    });

    const del = await st.s.manage('DELETE', '/pricing/gpt-4o');
    expect(del.status).toBe(204);
    const after = await chat('gpt-4o');
    expect(after.cost_nano_usd).toBe(builtIn.cost('gpt-4o', counts(after)));
    expect(
      (await st.s.manage('GET', '/pricing')).body.data.find((p: { model: string }) => p.model === 'gpt-4o'),
    ).toMatchObject({
      source: 'built_in',
      updated_at: null,
    });
    expect((await st.s.manage('DELETE', '/pricing/gpt-4o')).status).toBe(404);
  });

  it('prices an unknown model once an override names it; the usage API counts it as priced', async () => {
    const unknown = await chat('house-model-1');
    expect(unknown.cost_nano_usd).toBeNull();
    expect((await st.s.manage('PUT', '/pricing/house-model-1', { input: 3, output: 6, reasoning: 12 })).status).toBe(
      200,
    );
    const priced = await chat('house-model-1');
    expect(priced.cost_nano_usd).toBe(costOf({ input: 3, output: 6 }, counts(priced)));
    const byModel = await st.s.manage('GET', '/usage?model=house-model-1');
    expect(byModel.body.totals).toMatchObject({
      requests: 2,
      unpriced_requests: 1,
      cost_nano_usd: priced.cost_nano_usd,
    });
  });

  it('overrides are stored: a restarted server applies them from the start', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-pricing-'));
    try {
      const a = await startTestServer({ DATA_DIR: dataDir, MAINTENANCE_INTERVAL_MS: '0' });
      await a.manage('PUT', '/pricing/gpt-4.1', { input: 9, output: 9 });
      // Every unit of a price is stored, not only the token rates.
      const units = {
        input: 0,
        output: 0,
        audio_output: 70,
        per_image: { '512x512': { standard: 0.5 } },
        per_minute: 0.25,
        per_1m_characters: 40,
        tiers: { priority: { input: 2 } },
      };
      expect((await a.manage('PUT', '/pricing/house-media', units)).body).toMatchObject(units);
      await a.stop();
      const b = await startTestServer({ DATA_DIR: dataDir, MAINTENANCE_INTERVAL_MS: '0' });
      expect(
        b.server.runtime.pricing.cost('gpt-4.1', {
          promptTokens: 1,
          completionTokens: 1,
          cachedTokens: 0,
          reasoningTokens: 0,
        }),
      ).toBe(18_000);
      const listed = (await b.manage('GET', '/pricing')).body.data.find(
        (p: { model: string }) => p.model === 'gpt-4.1',
      );
      expect(listed).toMatchObject({ source: 'override', input: 9 });
      const media = (await b.manage('GET', '/pricing')).body.data.find(
        (p: { model: string }) => p.model === 'house-media',
      );
      expect(media).toMatchObject({ ...units, source: 'override', cached_input: null, image_input: null });
      const none = { promptTokens: null, completionTokens: null, cachedTokens: null, reasoningTokens: null };
      // 2 images of 512x512 at $0.50: $1, in nano-dollars.
      expect(b.server.runtime.pricing.cost('house-media', { ...none, units: { images: 2, size: '512x512' } })).toBe(
        1_000_000_000,
      );
      await b.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('validates prices and model names', async () => {
    const cases: Array<[string, unknown, string | null]> = [
      ['/pricing/gpt-4o', { input: -1, output: 1 }, 'input'],
      ['/pricing/gpt-4o', { input: 1 }, 'output'],
      ['/pricing/gpt-4o', { input: '1', output: 1 }, 'input'],
      ['/pricing/gpt-4o', { input: 1, output: 1, currency: 'EUR' }, null],
      ['/pricing/gpt-4o', { input: 1, output: 2_000_000 }, 'output'],
      ['/pricing/bad%20name', { input: 1, output: 1 }, 'model'],
      ['/pricing/gpt-4o', { input: 1, output: 1, per_minute: -1 }, 'per_minute'],
      ['/pricing/gpt-4o', { input: 1, output: 1, per_image: { '1024x1024': { hd: 'x' } } }, 'per_image.1024x1024.hd'],
      ['/pricing/gpt-4o', { input: 1, output: 1, tiers: { flex: { input: 1, speed: 2 } } }, 'tiers.flex'],
    ];
    for (const [route, body, param] of cases) {
      const res = await st.s.manage('PUT', route, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.param, JSON.stringify(body)).toBe(param);
    }
    expect((await st.s.manage('PUT', '/pricing/gpt-4o')).status).toBe(400);
    expect(
      (await st.s.manage('GET', '/pricing')).body.data.find((p: { model: string }) => p.model === 'gpt-4o').source,
    ).toBe('built_in');
  });
});

describe('PRICING_FILE', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-pricing-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('layers an operator file over the shipped table from the start, end to end', async () => {
    const file = path.join(dir, 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({
        as_of: '2030-01-01',
        models: { 'gpt-4o-mini': { input: 1, output: 1 }, 'house-llm': { input: 2, cached_input: 1, output: 4 } },
        aliases: { 'house-llm-latest': 'house-llm' },
      }),
    );
    const st = await startProxyStack({ env: { PRICING_FILE: file, MAINTENANCE_INTERVAL_MS: '0' } });
    try {
      const table = (await st.s.manage('GET', '/pricing')).body;
      expect(table.as_of).toBe('2030-01-01');
      const byModel = Object.fromEntries(table.data.map((p: { model: string }) => [p.model, p]));
      expect(byModel['house-llm']).toMatchObject({ source: 'file', input: 2, cached_input: 1, output: 4 });
      expect(byModel['gpt-4o-mini']).toMatchObject({ source: 'file', input: 1, output: 1 });
      expect(byModel['gpt-4o']).toMatchObject({ source: 'built_in' });
      expect(table.aliases['house-llm-latest']).toBe('house-llm');

      for (const [model, price] of [
        ['house-llm-latest', { input: 2, output: 4 }],
        ['gpt-4o-mini', { input: 1, output: 1 }],
      ] as const) {
        const { response } = await st.client.chat.completions.create({ model, messages }).withResponse();
        const rec = await st.recordOf(response);
        expect(rec.cost_nano_usd, model).toBe(
          costOf(price, {
            promptTokens: rec.prompt_tokens,
            completionTokens: rec.completion_tokens,
            cachedTokens: 0,
            reasoningTokens: 0,
          }),
        );
      }
      // An override still wins over the file.
      await st.s.manage('PUT', '/pricing/house-llm', { input: 0, output: 0 });
      const { response } = await st.client.chat.completions.create({ model: 'house-llm', messages }).withResponse();
      expect((await st.recordOf(response)).cost_nano_usd).toBe(0);
    } finally {
      await st.stop();
    }
  });

  const badFile = () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ models: { x: { input: 'cheap', output: 1 } } }));
    return bad;
  };

  // One process per test: a start takes seconds on a busy machine.
  it.each([
    ['an invalid', badFile],
    ['a missing', () => path.join(dir, 'missing.json')],
  ])('%s file stops the start of the process with a message naming PRICING_FILE', async (_what, make) => {
    const file = make();
    const res = await spawnCli(['serve'], {
      DATA_DIR: path.join(dir, 'data'),
      LISTEN_ADDR: '127.0.0.1:0',
      PRICING_FILE: file,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PRICING_FILE');
    expect(res.stderr).toContain(file);
  });

  it('an invalid file stops an in-process start with the field that is wrong', async () => {
    await expect(startTestServer({ PRICING_FILE: badFile() })).rejects.toThrow(
      /PRICING_FILE: pricing file .*models\.x\.input/,
    );
  });
});
