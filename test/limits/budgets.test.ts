import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import { periodOf } from '../../src/limits/limits.js';
import { toBatch } from '../../src/usage/batch.js';
import { manualClock } from '../helpers/clock.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import {
  budgetState,
  burst,
  chatBody,
  costSum,
  estimateTokens,
  exactChat,
  mockChatPrompt,
  nanoUsd,
  postJson,
  tally,
} from './helpers.js';

/**
 * The server's clock stands still at noon UTC on the 15th of next month: the day and month periods
 * the tests compute are the server's for the whole run, at whatever time of day it runs (a run that
 * crossed midnight used to see the day change under it), and the three periods of the history below
 * always hold different sums (on the 1st, yesterday was last month too).
 */
const today = new Date();
const clock = manualClock(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 15, 12));

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack({ clock: clock.now });
});
afterAll(async () => st.stop());

const MODEL = 'gpt-4o-mini';

/**
 * A gpt-4o-mini chat whose cost is known both ways: the reservation is the price of
 * ceil(bytes / 4) prompt tokens + max_tokens output; the actual cost is the price of the mock's
 * prompt count + one completion token per chunk. `chunks` defaults to the number that makes the
 * actual cost equal the reservation, so a budget admits exactly floor(budget / cost) of them.
 */
function request(content: string, maxTokens: number, chunks?: number) {
  const exact = chunks === undefined ? exactChat(MODEL, content, maxTokens) : undefined;
  const body = exact?.body ?? chatBody(MODEL, content, { max_tokens: maxTokens });
  const est = estimateTokens(body, maxTokens);
  const reserved = nanoUsd(MODEL, est.prompt, est.output);
  const prompt = mockChatPrompt([exact?.content ?? content]);
  const k = exact?.chunks ?? (chunks as number);
  const cost = nanoUsd(MODEL, prompt, k);
  const send = (token: string, headers: Record<string, string> = {}) =>
    postJson(st, '/v1/chat/completions', token, body, { 'x-mock-chunks': String(k), ...headers });
  return { body, reserved, cost, prompt, chunks: k, send };
}

const usd = (nano: number) => nano / 1e9;
/** As refusals print a budget: cents always, sub-cent digits when there are any ($0.0024, $1.50). */
const dollars = (nano: number) => (nano / 1e9).toFixed(9).replace(/(\.\d\d\d*?)0+$/, '$1');

describe('limits: budgets (reserve the estimate, settle on the actual cost)', () => {
  it('concurrent load against a token budget: exactly floor(budget / cost) admitted, spend never above it', async () => {
    const r = request('What does this cost?', 100);
    expect(r.cost).toBe(r.reserved);
    const budget = 37 * r.cost + Math.floor(r.cost / 2);
    const t = await st.issueToken({ budget_usd: usd(budget) });
    const out = await burst(200, () => r.send(t.token));
    expect(tally(out)).toEqual({ '200': 37, '429 budget_exceeded': 163 });

    const refused = out.find((o) => o.status === 429);
    expect(refused?.body.error).toEqual({
      message: `This token has reached its budget of $${dollars(budget)} for the lifetime.`,
      type: 'rate_limit_error',
      code: 'budget_exceeded',
      param: null,
    });
    // A lifetime budget has no reset time: no Retry-After.
    expect(refused?.headers.get('retry-after')).toBeNull();

    const rows = await st.usage(t.id);
    expect(rows).toHaveLength(37);
    expect(rows.every((row) => row.cost_nano_usd === r.cost && row.usage_status === 'reported')).toBe(true);
    expect(costSum(rows)).toBe(37 * r.cost);
    expect(costSum(rows)).toBeLessThanOrEqual(budget);
    // What the limiter holds as spent is exactly what the records say; nothing is left reserved.
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: 37 * r.cost, reservedNanoUsd: 0 });
    expect((await r.send(t.token)).status).toBe(429);
  });

  it("a project's budget is a ceiling over all of its tokens", async () => {
    const r = request('Shared budget', 80);
    const p = await st.addProject('budget-ceiling');
    const budget = 23 * r.cost + 1;
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { budget_usd: usd(budget) });
    const second = (await st.s.manage('POST', '/tokens', { project_id: p.projectId })).body as {
      id: string;
      token: string;
    };
    const out = await burst(150, (i) => r.send(i % 2 ? p.token : second.token));
    expect(tally(out)).toEqual({ '200': 23, '429 budget_exceeded': 127 });
    expect(out.find((o) => o.status === 429)?.body.error.message).toMatch(
      /^This token's project has reached its budget/,
    );
    const rows = [...(await st.usage(p.id)), ...(await st.usage(second.id))];
    expect(costSum(rows)).toBe(23 * r.cost);
    expect(await budgetState(st, 'project', p.projectId)).toEqual({ spentNanoUsd: 23 * r.cost, reservedNanoUsd: 0 });
  });

  it('when the actual cost exceeds the reservation, the overshoot is bounded by what was in flight', async () => {
    // Reserves for 10 output tokens, the mock produces 300 (a real upstream honours max_tokens;
    // this is the case of an estimate that was too low, e.g. no max_tokens and a long answer).
    const r = request('Under-estimated', 10, 300);
    expect(r.cost).toBeGreaterThan(r.reserved);
    const budget = 5 * r.cost;
    const t = await st.issueToken({ budget_usd: usd(budget) });
    const out = await burst(60, () => r.send(t.token, { 'x-mock-latency-ms': '50' }));
    const admitted = out.filter((o) => o.status === 200).length;
    expect(admitted + out.filter((o) => o.code === 'budget_exceeded').length).toBe(60);
    // Every admission saw spent + reserved + its own reservation <= budget, so: no more than
    // budget / reservation were admitted, and at least as many as sequential requests would get.
    expect(admitted).toBeLessThanOrEqual(Math.floor(budget / r.reserved));
    expect(admitted).toBeGreaterThanOrEqual(Math.floor((budget - r.reserved) / r.cost) + 1);
    const spent = costSum(await st.usage(t.id));
    expect(spent).toBe(admitted * r.cost);
    expect(spent - budget).toBeLessThanOrEqual(admitted * (r.cost - r.reserved));
    expect(await budgetState(st, 'token', t.id)).toEqual({ spentNanoUsd: spent, reservedNanoUsd: 0 });
    // Spent is now within one reservation of the budget (or past it): the next request is refused.
    expect(spent + r.reserved).toBeGreaterThan(budget);
    expect((await r.send(t.token)).status).toBe(429);
  });

  it('an unpriced model under a budget (token or project) is refused with 403 model_not_priced', async () => {
    const body = chatBody('my-own-model', 'hi', { max_tokens: 5 });
    const t = await st.issueToken({ budget_usd: 1 });
    const res = await postJson(st, '/v1/chat/completions', t.token, body);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error).toMatchObject({
      type: 'permission_error',
      code: 'model_not_priced',
      param: 'model',
    });

    const p = await st.addProject('budget-unpriced');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { budget_usd: 1 });
    const viaProject = await postJson(st, '/v1/chat/completions', p.token, body);
    expect(viaProject.status).toBe(403);
    expect(((await viaProject.json()) as any).error.code).toBe('model_not_priced');

    // Dated snapshots and aliases of priced models are priced, so they pass.
    for (const model of ['gpt-4o-mini-2024-07-18', 'gpt-4-turbo-preview']) {
      expect((await postJson(st, '/v1/chat/completions', t.token, chatBody(model, 'hi'))).status).toBe(200);
    }
  });

  describe('periods: budgets are seeded from the store for the current UTC day, month or lifetime', () => {
    const now = clock.now();
    const day = periodOf('day', now);
    const month = periodOf('month', now);
    // Spend written straight to the store (as an earlier run of the proxy would have), in three places.
    const history = [
      { at: month.start - 3_600_000, cost: 5000 }, // last month
      { at: day.start - 3_600_000, cost: 3000 }, // yesterday
      { at: now, cost: 1000 }, // today
    ];
    const seeded = (from: number) => history.filter((h) => h.at >= from).reduce((s, h) => s + h.cost, 0);

    async function tokenWithHistory(period: 'total' | 'day' | 'month', extraRoom: number) {
      const t = await st.issueToken();
      const rows = history.map((h) => ({
        id: uuidv7(h.at),
        request_id: `seed-${h.at}`,
        token_id: t.id,
        project_id: st.projectId,
        method: 'POST',
        path: '/v1/chat/completions',
        model: MODEL,
        status: 200,
        is_stream: 0,
        prompt_tokens: 1,
        completion_tokens: 1,
        total_tokens: 2,
        cached_tokens: null,
        reasoning_tokens: null,
        finish_reason: 'stop',
        upstream_ms: 1,
        ttfb_ms: 1,
        duration_ms: 1,
        bytes_in: 1,
        bytes_out: 1,
        error: null,
        cost_nano_usd: h.cost,
        usage_status: 'reported',
        created_at: h.at,
      }));
      await st.s.server.runtime.usageRepo.writeBatch(toBatch(rows));
      const from = period === 'total' ? 0 : period === 'day' ? day.start : month.start;
      const budget = seeded(from) + extraRoom;
      await st.s.manage('PATCH', `/tokens/${t.id}`, { budget_usd: usd(budget), budget_period: period });
      return { ...t, budget, seededSpend: seeded(from) };
    }

    for (const [period, key] of [
      ['total', 'total'],
      ['day', day.key],
      ['month', month.key],
    ] as const) {
      it(`${period}: spend before the period does not count, spend in it does (key ${key})`, async () => {
        const r = request(`Budget per ${period}`, 50);
        const t = await tokenWithHistory(period, 3 * r.cost + Math.floor(r.cost / 2));
        const out = await burst(10, () => r.send(t.token));
        expect(tally(out)).toEqual({ '200': 3, '429 budget_exceeded': 7 });
        expect(await budgetState(st, 'token', t.id, key)).toEqual({
          spentNanoUsd: t.seededSpend + 3 * r.cost,
          reservedNanoUsd: 0,
        });
        const refused = out.find((o) => o.status === 429);
        const word = period === 'total' ? 'lifetime' : period;
        expect(refused?.body.error.message).toBe(
          `This token has reached its budget of $${dollars(t.budget)} for the ${word}.`,
        );
        if (period === 'total') expect(refused?.headers.get('retry-after')).toBeNull();
        else {
          // A period budget comes back at the next UTC period: Retry-After says when.
          const end =
            period === 'day'
              ? day.start + 86_400_000
              : Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
          // Whole seconds from the moment of the refusal, on a clock that stands still.
          expect(refused?.headers.get('retry-after')).toBe(String(Math.ceil((end - now) / 1000)));
        }
      });
    }
  });
});
