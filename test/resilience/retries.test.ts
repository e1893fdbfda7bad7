import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ManualClock, manualClock } from '../helpers/clock.js';
import { metrics, outcome } from '../helpers/outcome.js';
import { closedPort, type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';

const ask = (client: OpenAI, headers: Record<string, string> = {}) =>
  client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers });

/** Idempotency-Key values, one per request. */
let n = 0;
const idem = () => ({ 'Idempotency-Key': `retry-test-${++n}` });

/**
 * Failover across a project's keys: its first key on the stack's healthy mock upstream, a second
 * ("flaky") on an upstream that fails. The server's clock is the test's: after the flaky key has
 * failed once it cools down, and once the test moves the clock past the cooldown the key is
 * half-open, so the next request is its trial and goes to it first, deterministically.
 */
describe('retries and failover across keys', () => {
  let st: ProxyStack;
  let clock: ManualClock;
  const bad: MockUpstream[] = [];

  beforeAll(async () => {
    clock = manualClock();
    st = await startProxyStack({
      clock: clock.now,
      env: {
        UPSTREAM_COOLDOWN_MS: '1000',
        UPSTREAM_COOLDOWN_MAX_MS: '10000',
        UPSTREAM_COOLDOWN_WAIT_MS: '0',
        UPSTREAM_RETRY_BACKOFF_MS: '5',
        UPSTREAM_RETRY_BACKOFF_MAX_MS: '20',
      },
    });
  });
  afterAll(async () => {
    await st?.stop();
    for (const m of bad) await m.close();
  });

  /** A project of two keys: `primary` on the healthy mock, `flaky` at `flakyUrl`; its client and key ids. */
  async function pool(name: string, flakyUrl: string) {
    const p = await st.addProject(name);
    const res = await st.s.manage('POST', `/projects/${p.projectId}/keys`, {
      name: 'flaky',
      api_key: UPSTREAM_KEY,
      base_url: flakyUrl,
    });
    expect(res.status).toBe(201);
    const keys = await st.s.manage('GET', `/projects/${p.projectId}/keys`);
    const idOf = (n: string) => (keys.body.data as { id: string; name: string }[]).find((k) => k.name === n)?.id;
    return { ...p, client: st.clientFor(p.token), primary: idOf('primary'), flaky: idOf('flaky') };
  }

  /** Sends (retryable) requests until the flaky key has failed once: from then on the clock decides. */
  async function prime(client: OpenAI, failed: () => number): Promise<number> {
    let sent = 0;
    while (failed() === 0 && sent < 60) {
      expect(await outcome(ask(client, idem()))).toEqual({ status: 200 });
      sent++;
    }
    expect(failed()).toBe(1);
    return sent;
  }

  async function failing(status: number): Promise<MockUpstream> {
    const m = await startMockUpstream({ apiKey: UPSTREAM_KEY, errorStatus: status });
    bad.push(m);
    return m;
  }

  it('a key answering 429 is failed over to the other key: no error for the client, one call per key', async () => {
    const flaky = await failing(429);
    const p = await pool('rate-limited', `${flaky.url}/v1`);
    st.mock.reset();
    const primed = await prime(p.client, () => flaky.stats().requests);
    for (let i = 0; i < 4; i++) {
      clock.advance(10_000); // the flaky key is half-open: this request tries it first
      expect(await outcome(ask(p.client))).toEqual({ status: 200 });
    }
    expect(flaky.stats().requests).toBe(5);
    expect(st.mock.stats().requests).toBe(primed + 4);
    const rows = await st.waitUsage(p.id, primed + 4);
    // Every request ended on the healthy key; those that met the flaky one first say so.
    expect(rows.every((r) => r.upstream_key_id === p.primary && r.status === 200)).toBe(true);
    expect(rows.slice(-4).map((r) => r.retries)).toEqual([1, 1, 1, 1]);
    expect(rows.reduce((sum, r) => sum + r.retries, 0)).toBe(5);
    expect(await metrics(st)).toMatch(/llm_proxy_upstream_retries_total\{reason="rate_limited"\} [1-9]/);
  });

  it('a 500 is retried on the other key only with an Idempotency-Key or the project opt-in', async () => {
    const flaky = await failing(500);
    const p = await pool('server-errors', `${flaky.url}/v1`);
    st.mock.reset();
    const primed = await prime(p.client, () => flaky.stats().requests);

    // No Idempotency-Key, no opt-in: the upstream may have run it, so the POST is sent once.
    clock.advance(10_000);
    expect(await outcome(ask(p.client))).toMatchObject({ status: 500, shouldRetry: null });
    expect(flaky.stats().requests).toBe(2);
    expect(st.mock.stats().requests).toBe(primed);

    clock.advance(10_000);
    expect(await outcome(ask(p.client, idem()))).toEqual({ status: 200 });
    expect(flaky.stats().requests).toBe(3);
    expect(st.mock.stats().requests).toBe(primed + 1);

    const patched = await st.s.manage('PATCH', `/projects/${p.projectId}`, { retry_server_errors: true });
    expect(patched.status).toBe(200);
    expect(patched.body.retry_server_errors).toBe(true);
    clock.advance(10_000);
    expect(await outcome(ask(p.client))).toEqual({ status: 200 });
    expect(flaky.stats().requests).toBe(4);
    expect(st.mock.stats().requests).toBe(primed + 2);
    const rows = await st.waitUsage(p.id, primed + 3);
    expect(rows.slice(-3).map((r) => [r.status, r.retries])).toEqual([
      [500, 0],
      [200, 1],
      [200, 1],
    ]);
  });

  it('a key whose upstream refuses connections is failed over without an Idempotency-Key', async () => {
    const p = await pool('refused', `http://127.0.0.1:${await closedPort()}/v1`);
    st.mock.reset();
    let sent = 0;
    // Until a request met the dead key (its record says it was retried).
    for (; sent < 60; sent++) {
      expect(await outcome(ask(p.client))).toEqual({ status: 200 });
      const rows = await st.waitUsage(p.id, sent + 1);
      if (rows.some((r) => r.retries === 1)) break;
    }
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      expect(await outcome(ask(p.client))).toEqual({ status: 200 });
    }
    expect(st.mock.stats().requests).toBe(sent + 1 + 3);
    const rows = await st.waitUsage(p.id, sent + 4);
    expect(rows.slice(-3).map((r) => [r.retries, r.upstream_key_id])).toEqual([
      [1, p.primary],
      [1, p.primary],
      [1, p.primary],
    ]);
    expect(await metrics(st)).toMatch(/llm_proxy_upstream_retries_total\{reason="connect"\} [1-9]/);
  });

  it('a streamed upload is never retried: its body is not held', async () => {
    const flaky = await failing(429);
    const p = await pool('uploads', `${flaky.url}/v1`);
    st.mock.reset();
    const primed = await prime(p.client, () => flaky.stats().requests);
    clock.advance(10_000);
    const upload = p.client.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'a.jsonl'), purpose: 'batch' });
    expect(await outcome(upload)).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(flaky.stats().requests).toBe(2);
    expect(st.mock.stats().requests).toBe(primed);
  });

  it('the final failure after retries says x-should-retry: false, so the SDK does not multiply the attempts', async () => {
    const down = await failing(500);
    const p = await st.addProject('one-key-500', `${down.url}/v1`);
    // One key: retried on it after a backoff, UPSTREAM_RETRY_MAX_ATTEMPTS (3) in all.
    expect(await outcome(ask(st.clientFor(p.token), idem()))).toEqual({
      status: 500,
      code: null,
      retryAfter: null,
      shouldRetry: 'false',
    });
    expect(down.stats().requests).toBe(3);
    // The SDK's own two retries would make it 3 × 3 calls; it obeys the header.
    const sdk = new OpenAI({ baseURL: `${st.url}/v1`, apiKey: p.token, maxRetries: 2 });
    expect(await outcome(ask(sdk, idem()))).toMatchObject({ status: 500, shouldRetry: 'false' });
    expect(down.stats().requests).toBe(6);
    const rows = await st.waitUsage(p.id, 2);
    expect(rows.map((r) => r.retries)).toEqual([2, 2]);

    // The proxy's own error after retries (nothing answered) says the same.
    const gone = await st.addProject('one-key-gone', `http://127.0.0.1:${await closedPort()}/v1`);
    expect(await outcome(ask(st.clientFor(gone.token)))).toMatchObject({
      status: 502,
      code: 'upstream_unavailable',
      shouldRetry: 'false',
    });
    expect((await st.waitUsage(gone.id, 1))[0]).toMatchObject({ status: 502, retries: 2 });
  });

  it('a 429 from every key passes its Retry-After on, without x-should-retry: a later try makes sense', async () => {
    const [a, b] = [await failing(429), await failing(429)];
    const p = await st.addProject('all-429', `${a.url}/v1`);
    const res = await st.s.manage('POST', `/projects/${p.projectId}/keys`, {
      name: 'b',
      api_key: UPSTREAM_KEY,
      base_url: `${b.url}/v1`,
    });
    expect(res.status).toBe(201);
    expect(await outcome(ask(st.clientFor(p.token)))).toEqual({
      status: 429,
      code: 'rate_limit_exceeded',
      retryAfter: '1',
      shouldRetry: null,
    });
    expect([a.stats().requests, b.stats().requests]).toEqual([1, 1]);
    expect((await st.waitUsage(p.id, 1))[0]).toMatchObject({ status: 429, retries: 1 });
  });
});

/** A stream whose head reached the client is never retried: a cut reaches the client as a cut. */
describe('a stream that started', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { UPSTREAM_IDLE_TIMEOUT_MS: '300' } });
    await st.s.manage('PATCH', `/projects/${st.projectId}`, { retry_server_errors: true });
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('is cut, not retried, even where 5xx and timeouts may be', async () => {
    const stream = await st.client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { ...idem(), 'x-mock-chunks': '5', 'x-mock-chunk-delay-ms': '2000' } },
    );
    const read = async () => {
      for await (const _ of stream);
    };
    await expect(read()).rejects.toThrow();
    expect(st.mock.stats().requests).toBe(1);
    expect((await st.usage()).at(-1)).toMatchObject({ status: 200, retries: 0, error: 'upstream_idle_timeout' });
  });
});

/**
 * The global budget under an upstream that always fails: retries stay within their share of
 * requests plus the minimum (the clock stands still, so the minimum's bucket never refills).
 */
describe('the retry budget', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({
      clock: manualClock().now,
      mock: { errorStatus: 503 },
      env: {
        UPSTREAM_RETRY_MAX_ATTEMPTS: '3',
        UPSTREAM_RETRY_BACKOFF_MS: '1',
        UPSTREAM_RETRY_BACKOFF_MAX_MS: '1',
        UPSTREAM_RETRY_BUDGET_PERCENT: '10',
        UPSTREAM_RETRY_BUDGET_MIN_PER_SECOND: '5',
      },
    });
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('holds: 200 requests to a failing upstream make at most 200 × 1.1 + 5 upstream calls', async () => {
    const requests = 200;
    for (let i = 0; i < requests; i += 10) {
      const batch = Array.from({ length: 10 }, () => outcome(ask(st.client, idem())));
      for (const o of await Promise.all(batch)) expect(o.status).toBe(503);
    }
    const calls = st.mock.stats().requests;
    expect(calls).toBeLessThanOrEqual(requests * 1.1 + 5);
    // Without the budget it would be 3 × 200; with it, the share and the minimum are used.
    expect(calls).toBeGreaterThanOrEqual(requests + 20);
    const text = await metrics(st);
    const exhausted = Number(/llm_proxy_upstream_retry_budget_exhausted_total (\d+)/.exec(text)?.[1]);
    expect(exhausted).toBeGreaterThan(0);
    const rows = await st.waitUsage(st.tokenId, requests);
    expect(rows.reduce((sum, r) => sum + r.retries, 0)).toBe(calls - requests);
  });
});
