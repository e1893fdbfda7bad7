import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubjectState } from '../../src/limits/limits.js';
import { DEFAULT_OUTPUT_ESTIMATE } from '../../src/proxy/admission.js';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { RealtimeClient } from '../helpers/realtime-client.js';
import { serviceAvailable } from '../helpers/services.js';

const MODEL = 'gpt-4o-realtime-preview';

/** A Realtime session against the Redis limiter: the connection holds its slot, each response reserves and settles. */
describe('Realtime sessions on the Redis limiter', () => {
  let st: ProxyStack | undefined;
  beforeAll(async () => {
    if (!(await serviceAvailable('redis'))) return;
    st = await startProxyStack({ env: { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_COMMAND_TIMEOUT_MS: '5000' } });
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('admits the connection once and settles each response with its actual cost', async (ctx) => {
    if (!st) return ctx.skip();
    const s = st;
    const { id, token } = await s.issueToken({ budget_usd: 1, max_concurrent: 1, tokens_per_minute: 1_000_000 });
    const limiter = s.s.server.runtime.limiter;
    let state: SubjectState | undefined;
    const read = async () => {
      state = await limiter.inspect('token', id, s.projectId);
      return state;
    };
    const budget = () => state?.budgets.total ?? { spentNanoUsd: -1, reservedNanoUsd: -1 };
    const estimate = s.s.server.runtime.pricing.cost(MODEL, {
      promptTokens: 0,
      completionTokens: DEFAULT_OUTPUT_ESTIMATE,
      cachedTokens: 0,
      reasoningTokens: 0,
    });

    const c = await RealtimeClient.open(`${s.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`, [], {
      headers: { authorization: `Bearer ${token}` },
    });
    await c.event('session.created');
    // The connection: one request, its concurrency slot held, nothing reserved of the budget.
    expect(await read()).toMatchObject({ requests: 1, inFlight: 1 });

    // A response in progress holds its estimate; at response.done the actual cost replaces it.
    c.send({ type: 'response.create', mock_hold: true });
    await c.event('response.created');
    await until(async () => (await read()) !== undefined && budget().reservedNanoUsd === estimate);
    expect(budget().spentNanoUsd).toBe(0);
    c.send({ type: 'mock.finish' });
    await c.event('response.done');
    const first = (await s.waitUsage(id, 1)).find((r) => r.status === 200);
    expect(first?.cost_nano_usd).toBeGreaterThan(0);
    await until(async () => (await read()) !== undefined && budget().spentNanoUsd === first?.cost_nano_usd);
    expect(budget().reservedNanoUsd).toBe(0);

    c.send({ type: 'response.create' });
    await c.event('response.done', 2);
    const costs = (await s.waitUsage(id, 2)).filter((r) => r.status === 200).map((r) => r.cost_nano_usd ?? 0);
    expect(costs).toHaveLength(2);
    const total = costs.reduce((a, b) => a + b, 0);
    await until(async () => (await read()) !== undefined && budget().spentNanoUsd === total);
    // Each response counts as a request too (never refused by max_requests), as its record does.
    expect(state).toMatchObject({ requests: 3, inFlight: 1 });

    // The close gives the slot back; the session's own record charges nothing more.
    c.ws.close(1000);
    await c.whenClosed();
    await s.waitUsage(id, 3);
    // Redis drops a count that reaches zero: none in flight reads as undefined.
    await until(async () => ((await read())?.inFlight ?? 0) === 0);
    expect(budget()).toEqual({ spentNanoUsd: total, reservedNanoUsd: 0 });
    // The limiter's count agrees with the store's: one per usage record (two responses, the session).
    expect(state?.requests).toBe(3);
    expect((await s.s.manage('GET', `/tokens/${id}`)).body.request_count).toBe(3);
  });
});
