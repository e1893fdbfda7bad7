import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { burst, chatBody, expectAdmitted, type Outcome, postJson, tally, timed, warm } from './helpers.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

const BODY = chatBody('gpt-4o-mini', 'rate me');
const chat = (token: string) => postJson(st, '/v1/chat/completions', token, BODY);

/** Seconds in OpenAI's reset format: `1.5s`, `59.99s` or `6m0s`. */
function seconds(reset: string | null): number {
  const m = /^(?:(\d+)m)?(\d+(?:\.\d+)?)s$/.exec(reset ?? '');
  if (!m) throw new Error(`not a reset duration: ${reset}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

function expectRateRefusal(o: Outcome | undefined, limit: number): void {
  expect(o?.status).toBe(429);
  expect(o?.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null });
  expect(o?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(o?.headers.get('x-ratelimit-limit-requests')).toBe(String(limit));
  expect(o?.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  // The window refills fully one minute after the burst: a little under 60 s from now.
  const reset = seconds(o?.headers.get('x-ratelimit-reset-requests') ?? null);
  expect(reset).toBeGreaterThan(50);
  expect(reset).toBeLessThanOrEqual(60);
}

describe('limits: requests_per_minute (GCRA, bursts up to the limit)', () => {
  // At 10 per minute one request's worth refills every 6 s, far longer than a burst takes, so
  // exactly the limit gets through. (GCRA's promise is "limit + elapsed / interval": on a machine
  // so loaded that the burst itself takes over 6 s, one more per 6 s is correct.)
  it('200 concurrent requests against 10 per minute: exactly 10 admitted, 190 refused with the headers', async () => {
    const t = await st.issueToken({ requests_per_minute: 10 });
    const before = st.mock.stats().requests;
    await warm(st, 200);
    const [out, ms] = await timed(() => burst(200, () => chat(t.token)));
    const admitted = expectAdmitted(out, 'rate_limit_exceeded', 10, 10 + Math.floor(ms / 6000));
    expect(st.mock.stats().requests - before).toBe(admitted);
    expectRateRefusal(
      out.find((o) => o.status === 429),
      10,
    );
    expect(out.find((o) => o.status === 429)?.body.error.message).toBe(
      'This token is limited to 10 requests per minute.',
    );
    expect(await st.usage(t.id)).toHaveLength(admitted);
  });

  it("a project's requests_per_minute is a ceiling over its tokens, and its refusals charge the tokens nothing", async () => {
    // Project 4 per minute (one per 15 s), token 6 (one per 10 s): refills are slower than the test.
    const p = await st.addProject('rpm-ceiling');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { requests_per_minute: 4 });
    await st.s.manage('PATCH', `/tokens/${p.id}`, { requests_per_minute: 6 });
    const second = (await st.s.manage('POST', '/tokens', { project_id: p.projectId })).body as { token: string };

    await warm(st, 200);
    const t0 = Date.now();
    const out = await burst(200, (i) => chat(i % 2 ? p.token : second.token));
    expectAdmitted(out, 'rate_limit_exceeded', 4, 4 + Math.floor((Date.now() - t0) / 15_000));
    expect(out.find((o) => o.status === 429)?.body.error.message).toBe(
      "This token's project is limited to 4 requests per minute.",
    );

    // Lift the project's limit: the first token has 6 minus what it was actually admitted left.
    const admittedFirst = out.filter((o, i) => i % 2 === 1 && o.status === 200).length;
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { requests_per_minute: null });
    const out2 = await burst(100, () => chat(p.token));
    const left = 6 - admittedFirst;
    expectAdmitted(out2, 'rate_limit_exceeded', left, left + Math.floor((Date.now() - t0) / 10_000));
  });

  it('Retry-After is honest: waiting that long is admitted, retrying well before is not', async () => {
    // 30 per minute = one request every 2 s after a burst of 30. The 31st is due 2 s after the
    // first of the burst was admitted, which was after t0.
    const t = await st.issueToken({ requests_per_minute: 30 });
    await warm(st, 30);
    const t0 = Date.now();
    expect(tally(await burst(30, () => chat(t.token)))).toEqual({ '200': 30 });

    const first = await chat(t.token);
    expect(first.status).toBe(429);
    const refusedAt = Date.now();
    const retryAfter = Number(first.headers.get('retry-after'));
    expect([1, 2]).toContain(retryAfter);

    // Well before the due time (t0 + 2 s, at the earliest): still refused.
    await sleep(Math.max(0, t0 + 1200 - Date.now()));
    const early = await chat(t.token);
    expect(early.status).toBe(429);
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // Retry-After seconds after the refusal: admitted.
    await sleep(Math.max(0, refusedAt + retryAfter * 1000 - Date.now()));
    const due = await chat(t.token);
    expect(due.status).toBe(200);
    // One request was admitted for that interval: the next one is refused again, for about 2 s.
    const next = await chat(t.token);
    expect(next.status).toBe(429);
    expect([1, 2]).toContain(Number(next.headers.get('retry-after')));
    expect(await st.usage(t.id)).toHaveLength(31);
  });
});
