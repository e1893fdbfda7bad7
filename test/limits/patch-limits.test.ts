import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { burst, exactChat, postJson, tally } from './helpers.js';

/** A chat whose actual cost equals its reservation with EXACT_CHUNKS chunks, so budget room is exact. */
const { body: BODY, chunks: EXACT_CHUNKS, cost: EXACT_COST } = exactChat('gpt-4o-mini', 'limits that change', 30);

describe('limits changed through PATCH apply on the very next request', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(async () => st.stop());

  const chat = (token: string) => postJson(st, '/v1/chat/completions', token, BODY);
  const outcome = async (res: Promise<Response>) => {
    const r = await res;
    const body = (await r.json()) as any;
    return r.status === 200 ? 200 : `${r.status} ${body.error?.code}`;
  };

  for (const owner of ['token', 'project'] as const) {
    it(`${owner} limits: each field set and cleared takes effect at once`, async () => {
      const p = await st.addProject(`patch-${owner}`);
      const target = owner === 'token' ? `/tokens/${p.id}` : `/projects/${p.projectId}`;
      const patch = async (body: Record<string, unknown>) => {
        expect((await st.s.manage('PATCH', target, body)).status).toBe(200);
      };
      const next = () => outcome(chat(p.token));

      expect(await next()).toBe(200);
      await patch({ allowed_models: ['gpt-4o'] });
      expect(await next()).toBe('403 model_not_allowed');
      await patch({ allowed_models: ['gpt-4o*'] });
      expect(await next()).toBe(200);

      await patch({ allowed_endpoints: ['/v1/embeddings'] });
      expect(await next()).toBe('403 endpoint_not_allowed');
      await patch({ allowed_endpoints: null, allowed_models: null });
      expect(await next()).toBe(200);

      await patch({ max_requests: 3 }); // three used so far
      expect(await next()).toBe('429 request_limit_reached');
      await patch({ max_requests: 4 });
      expect(await next()).toBe(200);
      expect(await next()).toBe('429 request_limit_reached');
      await patch({ max_requests: null });

      await patch({ requests_per_minute: 1 });
      expect(await next()).toBe(200);
      expect(await next()).toBe('429 rate_limit_exceeded');
      await patch({ requests_per_minute: null });
      expect(await next()).toBe(200);

      await patch({ tokens_per_minute: 10 }); // one request larger than the limit fits an empty window
      expect(await next()).toBe(200);
      expect(await next()).toBe('429 tokens_rate_limit_exceeded');
      await patch({ tokens_per_minute: null });
      expect(await next()).toBe(200);

      await patch({ budget_usd: 0.000001 });
      expect(await next()).toBe('429 budget_exceeded');
      await patch({ budget_usd: 10 });
      expect(await next()).toBe(200);
      await patch({ budget_usd: null });

      await patch({ is_active: false });
      expect(await next()).toBe('401 invalid_api_key');
    });
  }
});

describe('limit state stays current while a limit is off (usage not yet flushed to the store)', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    // The usage writer holds records for a minute: the store lags, so only the limiter knows.
    st = await startProxyStack({ env: { USAGE_FLUSH_INTERVAL_MS: '60000', USAGE_BATCH_SIZE: '100000' } });
  });
  afterAll(async () => st.stop());

  const chat = (token: string, chunks: number) =>
    postJson(st, '/v1/chat/completions', token, BODY, { 'x-mock-chunks': String(chunks) });

  it('max_requests: requests made while the cap was lifted count when it is set again', async () => {
    const t = await st.issueToken({ max_requests: 10 });
    expect(tally(await burst(4, () => chat(t.token, 1)))).toEqual({ '200': 4 });
    await st.s.manage('PATCH', `/tokens/${t.id}`, { max_requests: null });
    expect(tally(await burst(5, () => chat(t.token, 1)))).toEqual({ '200': 5 });
    await st.s.manage('PATCH', `/tokens/${t.id}`, { max_requests: 12 });
    expect(tally(await burst(20, () => chat(t.token, 1)))).toEqual({ '200': 3, '429 request_limit_reached': 17 });
    expect(st.s.server.runtime.usage.pending).toBeGreaterThanOrEqual(12);
  });

  it('budget: spend made while the budget was lifted counts when it is set again', async () => {
    // Each request's actual cost equals its reservation, so the room is exact.
    const chunks = EXACT_CHUNKS;
    const cost = EXACT_COST;
    const budget = 5 * cost + Math.floor(cost / 2);

    const t = await st.issueToken({ budget_usd: budget / 1e9 });
    expect(tally(await burst(2, () => chat(t.token, chunks)))).toEqual({ '200': 2 });
    await st.s.manage('PATCH', `/tokens/${t.id}`, { budget_usd: null });
    expect(tally(await burst(2, () => chat(t.token, chunks)))).toEqual({ '200': 2 });
    await st.s.manage('PATCH', `/tokens/${t.id}`, { budget_usd: budget / 1e9 });
    // 4 × cost spent, 1.5 × cost left: exactly one more.
    expect(tally(await burst(6, () => chat(t.token, chunks)))).toEqual({ '200': 1, '429 budget_exceeded': 5 });
  });

  it('budget_usd: nano-dollar amounts up to $9,000,000 are kept exactly; more, or finer, is refused', async () => {
    const t = await st.issueToken();
    const set = (budget_usd: number) => st.s.manage('PATCH', `/tokens/${t.id}`, { budget_usd });
    for (const ok of [0.000000001, 1.234567891, 9_000_000]) {
      const r = await set(ok);
      expect([r.status, r.body.budget_usd]).toEqual([200, ok]);
    }
    for (const refused of [9_000_000.01, 9_000_001, 0.0000000001]) {
      const r = await set(refused);
      expect([refused, r.status, r.body.error?.param]).toEqual([refused, 400, 'budget_usd']);
    }
  });
});
