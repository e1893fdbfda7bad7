import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/clock.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { burst, chatBody, expectAdmitted, type Outcome, postJson, tally } from './helpers.js';

// The server's clock moves only when a test moves it: what refills during a burst, or while the
// test waits, cannot depend on how busy the machine is.
const clock = manualClock();
let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack({ clock: clock.now });
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
  // The window refills fully one minute after the burst, which (the clock standing still) is now.
  expect(seconds(o?.headers.get('x-ratelimit-reset-requests') ?? null)).toBe(60);
}

describe('limits: requests_per_minute (GCRA, bursts up to the limit)', () => {
  // The burst happens at one instant of the server's clock: nothing refills, exactly the limit gets through.
  it('200 concurrent requests against 10 per minute: exactly 10 admitted, 190 refused with the headers', async () => {
    const t = await st.issueToken({ requests_per_minute: 10 });
    const before = st.mock.stats().requests;
    const out = await burst(200, () => chat(t.token));
    const admitted = expectAdmitted(out, 'rate_limit_exceeded', 10, 10);
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
    // Project 4 per minute, token 6.
    const p = await st.addProject('rpm-ceiling');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { requests_per_minute: 4 });
    await st.s.manage('PATCH', `/tokens/${p.id}`, { requests_per_minute: 6 });
    const second = (await st.s.manage('POST', '/tokens', { project_id: p.projectId })).body as { token: string };

    const out = await burst(200, (i) => chat(i % 2 ? p.token : second.token));
    expectAdmitted(out, 'rate_limit_exceeded', 4, 4);
    expect(out.find((o) => o.status === 429)?.body.error.message).toBe(
      "This token's project is limited to 4 requests per minute.",
    );

    // Lift the project's limit: the first token has 6 minus what it was actually admitted left.
    const admittedFirst = out.filter((o, i) => i % 2 === 1 && o.status === 200).length;
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { requests_per_minute: null });
    const out2 = await burst(100, () => chat(p.token));
    const left = 6 - admittedFirst;
    expectAdmitted(out2, 'rate_limit_exceeded', left, left);
  });

  it('Retry-After is honest: waiting that long is admitted, retrying well before is not', async () => {
    // 30 per minute = one request every 2 s after a burst of 30: the 31st is due 2 s after the burst.
    const t = await st.issueToken({ requests_per_minute: 30 });
    expect(tally(await burst(30, () => chat(t.token)))).toEqual({ '200': 30 });

    const first = await chat(t.token);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');

    // Well before the due time: still refused, for the time that is left.
    clock.advance(1200);
    const early = await chat(t.token);
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('1');

    // Retry-After seconds after the refusal: admitted, and not a millisecond before.
    clock.advance(799);
    expect((await chat(t.token)).status).toBe(429);
    clock.advance(1);
    const due = await chat(t.token);
    expect(due.status).toBe(200);
    // One request was admitted for that interval: the next one is refused again, for 2 s.
    const next = await chat(t.token);
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toBe('2');
    expect(await st.usage(t.id)).toHaveLength(31);
  });
});
