import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { holdRequests, outcome } from '../helpers/slow-client.js';

/** The gate in front of the stack's upstream pool (its counters are what the tests wait on). */
const gateOf = (st: ProxyStack) => st.s.server.runtime.pools.get(new URL(st.mock.url).origin).gate;

/** The `proxy refused` log lines with this code. */
const refusals = (st: ProxyStack, code: string) =>
  st.s
    .logs()
    .split('\n')
    .filter((l) => l.includes('"proxy refused"') && l.includes(`"code":"${code}"`));

describe('upstream fairness: one tenant cannot starve the others', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    // 8 connections, so each token and each project may take 4 (UPSTREAM_SHARE_PERCENT 50).
    st = await startProxyStack({ env: { UPSTREAM_MAX_CONNECTIONS: '8', UPSTREAM_QUEUE_TIMEOUT_MS: '60000' } });
  });
  afterAll(async () => {
    st.mock.release();
    await st.stop();
  });

  it("a token holding requests gets its share of the connections; another project's GET /v1/models still answers", async () => {
    const other = await st.addProject('bystander');
    // The hog sends 12 requests the upstream holds: 4 get a connection, 8 are refused at once.
    const hog = await holdRequests(st, st.token, 12, 4);
    // Answered, or found waiting for a connection (which it must not): whichever comes first.
    const bystander = await Promise.race([
      st.proxy('/v1/models', { token: other.token }),
      until(() => gateOf(st).waiting > 0).then(() => {
        throw new Error("the other project's request waits for a connection the hog holds");
      }),
    ]);
    expect(bystander.status).toBe(200);
    expect(st.mock.stats().held).toBe(4);
    expect(gateOf(st)).toMatchObject({ active: 4, waiting: 0 });

    st.mock.release();
    const results = await Promise.all(hog.map(outcome));
    expect(results.filter((r) => r === '200')).toHaveLength(4);
    expect(results.filter((r) => r === '429 concurrency_limit_exceeded')).toHaveLength(8);
    expect(gateOf(st).active).toBe(0);
  });

  it('the share refusal is a 429 in OpenAI shape with Retry-After, logged, with no usage record', async () => {
    const hog = await holdRequests(st, st.token, 4);
    const refused = await st.proxy('/v1/models', { headers: { 'x-mock-hold': '1' } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      error: {
        message:
          'This token or its project already has 4 requests in flight or waiting on this upstream, its share of the 8 connections; retry when one ends.',
        type: 'rate_limit_error',
        code: 'concurrency_limit_exceeded',
        param: null,
      },
    });
    const id = refused.headers.get('x-llm-proxy-request-id');
    expect(refusals(st, 'concurrency_limit_exceeded').some((l) => l.includes(`"request_id":"${id}"`))).toBe(true);
    st.mock.release();
    await Promise.all(hog);
    expect((await st.usage()).some((r) => r.request_id === id)).toBe(false);
  });

  it('a request waits for a connection when all are busy and gets the next one that frees', async () => {
    const a = await st.addProject('tenant-a');
    const b = await st.addProject('tenant-b');
    const c = await st.addProject('tenant-c');
    const held = [...(await holdRequests(st, a.token, 4)), ...(await holdRequests(st, b.token, 4))];
    const waiting = st.proxy('/v1/models', { token: c.token });
    await until(() => gateOf(st).waiting === 1);
    st.mock.release();
    expect((await waiting).status).toBe(200);
    await Promise.all(held);
    expect(gateOf(st)).toMatchObject({ active: 0, waiting: 0 });
  });

  it('a client that leaves while waiting gives up its place, and nothing is recorded for it', async () => {
    const a = await st.addProject('tenant-d');
    const b = await st.addProject('tenant-e');
    const c = await st.addProject('tenant-f');
    const held = [...(await holdRequests(st, a.token, 4)), ...(await holdRequests(st, b.token, 4))];
    const ac = new AbortController();
    const gone = st.proxy('/v1/models', { token: c.token, signal: ac.signal }).catch(() => 'aborted');
    await until(() => gateOf(st).waiting === 1);
    ac.abort();
    expect(await gone).toBe('aborted');
    await until(() => gateOf(st).waiting === 0);
    st.mock.release();
    await Promise.all(held);
    expect(await st.usage(c.id)).toEqual([]);
    expect(gateOf(st).active).toBe(0);
  });
});

describe('upstream fairness: the wait for a connection is bounded', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({
      env: {
        UPSTREAM_MAX_CONNECTIONS: '2',
        UPSTREAM_SHARE_PERCENT: '100',
        UPSTREAM_QUEUE_TIMEOUT_MS: '100',
        UPSTREAM_QUEUE_LIMIT: '1',
      },
    });
  });
  afterAll(async () => {
    st.mock.release();
    await st.stop();
  });

  it('past UPSTREAM_QUEUE_TIMEOUT_MS a waiting request gets 503 upstream_saturated with Retry-After; a full queue refuses at once', async () => {
    // Both connections are held until released, so the waits below can only end by timing out.
    const held = await holdRequests(st, st.token, 2);
    const [queued, overflow] = await Promise.all([st.proxy('/v1/models'), st.proxy('/v1/models')]);
    const bodies = [(await queued.json()) as any, (await overflow.json()) as any];
    for (const [i, res] of [queued, overflow].entries()) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(bodies[i].error).toMatchObject({ type: 'upstream_error', code: 'upstream_saturated', param: null });
    }
    expect(bodies.map((b) => b.error.message).sort()).toEqual([
      'The upstream API is at capacity: every connection is busy; retry shortly.',
      'The upstream API is at capacity: no connection was free within 100 ms; retry shortly.',
    ]);
    expect(refusals(st, 'upstream_saturated')).toHaveLength(2);
    expect(st.mock.stats().requests).toBe(2);

    st.mock.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    // The slots came back: the next request is served, and no record exists for the refused ones.
    expect((await st.proxy('/v1/models')).status).toBe(200);
    const ids = [queued, overflow].map((r) => r.headers.get('x-llm-proxy-request-id'));
    expect((await st.usage()).filter((r) => ids.includes(r.request_id))).toEqual([]);
  });
});

describe('upstream fairness: shutdown', () => {
  it('stops with requests holding every connection and one waiting for a connection', async () => {
    const st = await startProxyStack({
      env: {
        UPSTREAM_MAX_CONNECTIONS: '1',
        UPSTREAM_SHARE_PERCENT: '100',
        UPSTREAM_QUEUE_TIMEOUT_MS: '60000',
        SHUTDOWN_TIMEOUT_MS: '300',
      },
    });
    try {
      // The held request is cut at the shutdown deadline: its client sees the connection closed.
      const held = (await holdRequests(st, st.token, 1)).map((p) => p.then((r) => r.text()).catch(() => 'closed'));
      const waiting = st.proxy('/v1/models').then(outcome, () => 'connection closed');
      await until(() => gateOf(st).waiting === 1);
      await st.s.stop();
      // Cut at the deadline: the waiting client's connection is closed (or it got the 503).
      expect(['connection closed', '503 upstream_saturated']).toContain(await waiting);
      expect(await Promise.all(held)).toEqual(['closed']);
    } finally {
      await st.mock.close();
    }
  });
});
