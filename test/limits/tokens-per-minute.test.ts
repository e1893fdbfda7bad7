import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import {
  burst,
  chatBody,
  estimateTokens,
  expectAdmitted,
  mockChatPrompt,
  postJson,
  tally,
  timed,
  warm,
} from './helpers.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

/**
 * A chat request and what it will really use. The proxy reserves ceil(bytes / 4) + max_tokens; the
 * mock answers prompt = 3 + 4 + ceil(chars / 4) and one completion token per chunk (x-mock-chunks),
 * whatever max_tokens says. `actual` picks the chunks; by default the actual use equals the estimate.
 */
function request(content: string, maxTokens: number, actual?: number) {
  const body = chatBody('gpt-4o-mini', content, { max_tokens: maxTokens });
  const estimate = estimateTokens(body, maxTokens).total;
  const prompt = mockChatPrompt([content]);
  const used = actual ?? estimate;
  if (used < prompt) throw new Error('actual use below the prompt size');
  const send = (token: string) =>
    postJson(st, '/v1/chat/completions', token, body, { 'x-mock-chunks': String(used - prompt) });
  return { body, estimate, used, send };
}

/** A request whose reservation is exactly `estimate` tokens (found by trying max_tokens values). */
function requestOf(content: string, estimate: number, actual?: number) {
  for (let max = estimate; max > 0; max--) {
    const r = request(content, max, actual);
    if (r.estimate === estimate) return r;
  }
  throw new Error(`no max_tokens gives an estimate of ${estimate}`);
}

/** With a limit of L tokens per minute one token refills every 60000 / L ms. */
const refilled = (elapsedMs: number, limit: number) => Math.floor(elapsedMs / (60_000 / limit));

describe('limits: tokens_per_minute (reserve the estimate, settle on actual usage)', () => {
  it('concurrent requests: exactly floor(limit / estimate) fit, the rest get 429 with token headers', async () => {
    // Room for 6 and one token more: a 7th would need most of an estimate to refill (about 10 s).
    const r = request('How many tokens is this?', 60);
    const limit = 6 * r.estimate + 1;
    const t = await st.issueToken({ tokens_per_minute: limit });
    const before = st.mock.stats().requests;
    await warm(st, 200);
    const [out, ms] = await timed(() => burst(200, () => r.send(t.token)));
    // Exactly 6 unless the burst itself outlasted a refill (only on a badly overloaded machine).
    const most = Math.floor((limit + refilled(ms, limit)) / r.estimate);
    const admitted = expectAdmitted(out, 'tokens_rate_limit_exceeded', 6, most);
    expect(st.mock.stats().requests - before).toBe(admitted);

    const refused = out.find((o) => o.status === 429);
    expect(refused?.body.error.message).toBe(`This token is limited to ${limit} tokens per minute.`);
    expect(refused?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused?.headers.get('x-ratelimit-limit-tokens')).toBe(String(limit));
    // Left over: the one token (plus whatever refilled during the burst), never a whole estimate.
    const remaining = Number(refused?.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeGreaterThanOrEqual(admitted === 6 ? 1 : 0);
    expect(remaining).toBeLessThan(r.estimate);
    expect(refused?.headers.get('x-ratelimit-reset-tokens')).toMatch(/s$/);

    const rows = await st.usage(t.id);
    expect(rows.map((row) => row.total_tokens)).toEqual(Array(admitted).fill(r.estimate));
  });

  it("a project's tokens_per_minute is a ceiling over two tokens", async () => {
    const r = request('Project-wide tokens', 40);
    const p = await st.addProject('tpm-ceiling');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { tokens_per_minute: 7 * r.estimate + 3 });
    const second = (await st.s.manage('POST', '/tokens', { project_id: p.projectId })).body as { token: string };
    await warm(st, 100);
    const [out, ms] = await timed(() => burst(100, (i) => r.send(i % 2 ? p.token : second.token)));
    const limit = 7 * r.estimate + 3;
    expectAdmitted(out, 'tokens_rate_limit_exceeded', 7, Math.floor((limit + refilled(ms, limit)) / r.estimate));
  });

  it('settlement refunds an over-estimate: what the first request did not use is available at once', async () => {
    const limit = 1000;
    const t = await st.issueToken({ tokens_per_minute: limit });
    const a = request('Reserve a lot, use little', 600, 40); // estimates ~615, uses 40
    const t0 = Date.now();
    expect((await a.send(t.token)).status).toBe(200);

    // Fits only if A's unused reservation came back: a.estimate + b.estimate > limit.
    const b = requestOf('Fill the rest', limit - a.used);
    expect(a.estimate + b.estimate).toBeGreaterThan(limit);
    expect((await b.send(t.token)).status).toBe(200);

    // The window now holds exactly A's actual use plus B's: nothing left but what refilled since.
    const c = await request('Anything more?', 1).send(t.token);
    expect(c.status).toBe(429);
    const remaining = Number(c.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeLessThanOrEqual(refilled(Date.now() - t0, limit));
    const rows = await st.usage(t.id);
    expect(rows.map((row) => row.total_tokens)).toEqual([a.used, b.used]);
  });

  it('settlement charges an under-estimate: a request that used more than reserved leaves less room', async () => {
    const limit = 1000;
    const t = await st.issueToken({ tokens_per_minute: limit });
    const a = request('Reserve little, use a lot', 10, 700); // estimates ~24, uses 700
    const t0 = Date.now();
    expect((await a.send(t.token)).status).toBe(200);

    // B would fit beside A's estimate, but not beside what A really used.
    const b = request('Does this fit?', 400);
    expect(a.estimate + b.estimate).toBeLessThanOrEqual(limit);
    expect(a.used + b.estimate).toBeGreaterThan(limit);
    const refused = await b.send(t.token);
    expect(refused.status).toBe(429);
    const remaining = Number(refused.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeGreaterThanOrEqual(limit - a.used);
    expect(remaining).toBeLessThanOrEqual(limit - a.used + refilled(Date.now() - t0, limit));
  });

  it('n and best_of multiply the output reservation: each choice may use max_tokens', async () => {
    const t = await st.issueToken({ tokens_per_minute: 1000 });
    const body = chatBody('gpt-4o-mini', 'Three answers, please', { max_tokens: 200, n: 3 });
    const reserved = estimateTokens(body).prompt + 3 * 200;
    const chunks = reserved - mockChatPrompt(['Three answers, please']);
    const send = () => postJson(st, '/v1/chat/completions', t.token, body, { 'x-mock-chunks': String(chunks) });
    // Two would fit if n were ignored (2 × (prompt + 200) < 1000); with it, only one does.
    expect(2 * (estimateTokens(body).prompt + 200)).toBeLessThan(1000);
    expect(tally(await burst(2, send))).toEqual({ '200': 1, '429 tokens_rate_limit_exceeded': 1 });

    const legacy = await st.issueToken({ tokens_per_minute: 1000 });
    const prompt = JSON.stringify({ model: 'gpt-3.5-turbo-instruct', prompt: 'x', max_tokens: 150, best_of: 4 });
    const sendLegacy = () => postJson(st, '/v1/completions', legacy.token, prompt, { 'x-mock-chunks': '600' });
    expect(tally(await burst(2, sendLegacy))).toEqual({ '200': 1, '429 tokens_rate_limit_exceeded': 1 });
  });

  it('a request larger than the whole limit is admitted into an empty window only, and charged in full', async () => {
    const limit = 200;
    const t = await st.issueToken({ tokens_per_minute: limit });
    const big = request('Too big for one minute', 500, 300);
    expect(big.estimate).toBeGreaterThan(limit);
    expect((await big.send(t.token)).status).toBe(200);
    // 300 tokens charged against 200 per minute: the window is full for another 30 s at least.
    const next = await request('small', 1).send(t.token);
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(25);
  });

  it('requests without a body (GET) reserve nothing, but are refused while the window is overdrawn', async () => {
    const t = await st.issueToken({ tokens_per_minute: 100 });
    expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200);
    expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200);
    expect((await request('overdraw', 300, 250).send(t.token)).status).toBe(200);
    const res = await st.proxy('/v1/models', { token: t.token });
    expect(res.status).toBe(429);
    expect(((await res.json()) as any).error.code).toBe('tokens_rate_limit_exceeded');
  });
});
