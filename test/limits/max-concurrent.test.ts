import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { holdRequests, outcome } from '../helpers/slow-client.js';

describe('limits: max_concurrent (requests in flight at once)', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(async () => {
    st.mock.release();
    await st.stop();
  });

  /** Releases what the mock holds and waits for those requests to end. */
  const releaseAll = async (held: Array<Promise<Response>>) => {
    st.mock.release();
    return Promise.all(held.map(outcome));
  };

  it('a token with max_concurrent N has N+1 refused with 429 and Retry-After, and gets its slots back', async () => {
    const t = await st.issueToken({ max_concurrent: 3 });
    expect((await st.s.manage('GET', `/tokens/${t.id}`)).body.max_concurrent).toBe(3);
    for (let round = 0; round < 2; round++) {
      const held = await holdRequests(st, t.token, 3);
      const refused = await st.proxy('/v1/models', { token: t.token });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({
        error: {
          message: 'This token is limited to 3 concurrent requests.',
          type: 'rate_limit_error',
          code: 'concurrency_limit_exceeded',
          param: null,
        },
      });
      expect(await releaseAll(held)).toEqual(['200', '200', '200']);
    }
    // Refused requests are not counted: six served, six records.
    expect(await st.waitUsage(t.id, 6)).toHaveLength(6);
  });

  it('set and cleared by PATCH, on the very next request; slots taken under a cap are given back once', async () => {
    const t = await st.issueToken();
    const patch = async (v: number | null) =>
      expect((await st.s.manage('PATCH', `/tokens/${t.id}`, { max_concurrent: v })).status).toBe(200);
    await patch(2);
    const first = await holdRequests(st, t.token, 2);
    expect(await outcome(st.proxy('/v1/models', { token: t.token }))).toBe('429 concurrency_limit_exceeded');
    await patch(null);
    const uncapped = await holdRequests(st, t.token, 1);
    expect(await releaseAll([...first, ...uncapped])).toEqual(['200', '200', '200']);
    // The two taken under the cap were released, the uncapped one took nothing: two fit again, not more.
    await patch(2);
    const again = await holdRequests(st, t.token, 2);
    expect(await outcome(st.proxy('/v1/models', { token: t.token }))).toBe('429 concurrency_limit_exceeded');
    expect(await releaseAll(again)).toEqual(['200', '200']);
  });

  it("a project's max_concurrent caps all of its tokens together", async () => {
    const p = await st.addProject('concurrent-project');
    const second = await st.s.manage('POST', '/tokens', { project_id: p.projectId });
    expect((await st.s.manage('PATCH', `/projects/${p.projectId}`, { max_concurrent: 2 })).body.max_concurrent).toBe(2);
    const held = [...(await holdRequests(st, p.token, 1)), ...(await holdRequests(st, second.body.token, 1))];
    const refused = await st.proxy('/v1/models', { token: second.body.token });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.message).toBe(
      "This token's project is limited to 2 concurrent requests.",
    );
    expect(await releaseAll(held)).toEqual(['200', '200']);
    expect(await outcome(st.proxy('/v1/models', { token: p.token }))).toBe('200');
  });

  it('a slot is released exactly once when the client aborts or the upstream fails', async () => {
    const t = await st.issueToken({ max_concurrent: 2 });
    const ac = new AbortController();
    const aborted = st
      .proxy('/v1/models', { token: t.token, headers: { 'x-mock-hold': '1' }, signal: ac.signal })
      .catch(() => 'aborted');
    const before = st.mock.stats().held;
    await until(() => st.mock.stats().held === before + 1);
    const held = await holdRequests(st, t.token, 1);
    ac.abort();
    expect(await aborted).toBe('aborted');
    await st.waitUsage(t.id, 1);
    const failed = await st.proxy('/v1/models', { token: t.token, headers: { 'x-mock-status': '500' } });
    expect(failed.status).toBe(500);
    await failed.text();
    // One held and the two that ended released once each: one more fits, a second does not.
    const more = await holdRequests(st, t.token, 1);
    expect(await outcome(st.proxy('/v1/models', { token: t.token }))).toBe('429 concurrency_limit_exceeded');
    expect(await releaseAll([...held, ...more])).toEqual(['200', '200']);
  });

  it('is validated like the other limits', async () => {
    for (const bad of [0, -1, 1.5, '3']) {
      const res = await st.s.manage('POST', '/tokens', { project_id: st.projectId, max_concurrent: bad });
      expect(res.status, String(bad)).toBe(400);
      expect(res.body.error.param).toBe('max_concurrent');
    }
  });
});
