import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { budgetState, priceOf } from './helpers.js';

const MODEL = 'text-embedding-3-small';
const INPUT = 'abcdefghijkl'; // 12 characters: 3 tokens to the mock
const REQUESTS = 100;

/**
 * Money is counted in integer nano-dollars, so a request that costs a fraction of a micro-dollar
 * keeps its cost: 100 embeddings of 3 tokens each were recorded as $0 against $0.000006 billed when
 * the unit was the micro-dollar (0.06 µ$ each, rounded to 0).
 */
describe('small requests keep their cost', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(async () => st.stop());

  it(`${REQUESTS} embeddings of 3 tokens cost exactly ${REQUESTS} × 3 × the price, in the usage API and the budget`, async () => {
    // $0.02 per 1M tokens is 0.02 µ$ = 20 n$ per token: 60 n$ a request, 6000 n$ ($0.000006) for all.
    const perToken = priceOf(MODEL).input * 1000;
    expect(perToken).toBe(20);
    const expected = REQUESTS * 3 * perToken;
    const t = await st.issueToken({ budget_usd: 1 });
    const client = st.clientFor(t.token);
    for (let i = 0; i < REQUESTS; i++) {
      const res = await client.embeddings.create({ model: MODEL, input: INPUT });
      expect(res.usage.prompt_tokens).toBe(3);
    }

    const rows = await st.waitUsage(t.id, REQUESTS);
    expect(rows.map((r) => r.cost_nano_usd)).toEqual(Array(REQUESTS).fill(3 * perToken));

    const usage = await st.s.manage('GET', `/usage?token_id=${t.id}`);
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toMatchObject({
      requests: REQUESTS,
      prompt_tokens: REQUESTS * 3,
      cost_nano_usd: expected,
      cost_usd: '0.000006000',
      cost_micro_usd: 6,
      unpriced_requests: 0,
    });
    const token = await st.s.manage('GET', `/tokens/${t.id}`);
    expect(token.body.usage).toMatchObject({ cost_nano_usd: expected, cost_usd: '0.000006000' });

    // The budget counted the same: every reservation settled at the actual cost.
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: expected, reservedNanoUsd: 0 });
  });
});
