import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { exactChat, postJson } from '../limits/helpers.js';

const MODEL = 'gpt-4o-mini';

/** Sample values of one metric from Prometheus text, keyed by their label string. */
function samples(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    out[line.slice(name.length, line.lastIndexOf(' '))] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

describe('budget metrics', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { METRICS_TOKEN_LABELS: 'true' } });
  });
  afterAll(() => st.stop());

  it('count the budgets at or over each threshold and, opted in, show each one', async () => {
    // A chat whose actual cost equals its reservation (see test/limits/budgets.test.ts).
    const { body, chunks, cost: reserved } = exactChat(MODEL, 'What does this cost?', 100);
    const t = await st.issueToken({ budget_usd: (2 * reserved) / 1e9 });
    const scrape = async () =>
      (await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } })).text();
    const send = async () => {
      const res = await postJson(st, '/v1/chat/completions', t.token, body, { 'x-mock-chunks': String(chunks) });
      expect(res.status).toBe(200);
      await st.recordOf(res, t.id);
    };

    await send();
    let text = await scrape();
    expect(samples(text, 'llm_proxy_budgets_used')).toMatchObject({
      '{kind="token",threshold="0.5"}': 1,
      '{kind="token",threshold="0.8"}': 0,
      '{kind="token",threshold="1"}': 0,
      '{kind="project",threshold="0.5"}': 0,
    });
    expect(samples(text, 'llm_proxy_budget_used_ratio')[`{kind="token",id="${t.id}"}`]).toBeCloseTo(0.5, 6);

    await send();
    text = await scrape();
    expect(samples(text, 'llm_proxy_budgets_used')).toMatchObject({
      '{kind="token",threshold="0.9"}': 1,
      '{kind="token",threshold="1"}': 1,
    });
    expect(samples(text, 'llm_proxy_budget_used_ratio')[`{kind="token",id="${t.id}"}`]).toBeCloseTo(1, 6);
  });
});
