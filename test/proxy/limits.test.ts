import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

async function burst(token: string, n: number): Promise<{ ok: number; limited: number; bodies: any[] }> {
  const results = await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await st.proxy('/v1/models', { token });
      return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get('retry-after') };
    }),
  );
  const other = results.filter((r) => r.status !== 200 && r.status !== 429);
  expect(other).toEqual([]);
  return {
    ok: results.filter((r) => r.status === 200).length,
    limited: results.filter((r) => r.status === 429).length,
    bodies: results.filter((r) => r.status === 429).map((r) => r.body),
  };
}

describe('proxy: limits', () => {
  it('max_requests is exact under 100 concurrent requests, and the count is persisted', async () => {
    const t = await st.issueToken({ max_requests: 37 });
    st.mock.reset();
    const { ok, limited, bodies } = await burst(t.token, 100);
    expect(ok).toBe(37);
    expect(limited).toBe(63);
    expect(bodies[0]).toEqual({
      error: {
        message: 'This token has used all of its 37 requests.',
        type: 'rate_limit_error',
        code: 'request_limit_reached',
        param: null,
      },
    });
    expect(st.mock.stats().requests).toBe(37);

    const rows = await st.usage(t.id);
    expect(rows).toHaveLength(37);
    expect(rows.every((r) => r.status === 200)).toBe(true);
    const view = await st.s.manage('GET', `/tokens/${t.id}`);
    expect(view.body).toMatchObject({ request_count: 37, max_requests: 37, status: 'exhausted' });

    // Still capped after the count reached the database and the cache was refilled from it.
    st.s.server.runtime.authenticator.invalidate([t.id]);
    expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(429);
    expect(st.mock.stats().requests).toBe(37);
  });

  it('raising max_requests takes effect at once, and exactly', async () => {
    const t = await st.issueToken({ max_requests: 2 });
    expect((await burst(t.token, 5)).ok).toBe(2);
    expect((await st.s.manage('PATCH', `/tokens/${t.id}`, { max_requests: 5 })).status).toBe(200);
    expect((await burst(t.token, 10)).ok).toBe(3);
    expect(await st.usage(t.id)).toHaveLength(5);
  });

  it('requests that fail upstream still count (they reached the upstream); refusals do not', async () => {
    const t = await st.issueToken({ max_requests: 3 });
    const failing = await st.proxy('/v1/models', { token: t.token, headers: { 'x-mock-status': '500' } });
    expect(failing.status).toBe(500);
    expect((await burst(t.token, 4)).ok).toBe(2);
    expect((await st.usage(t.id)).map((r) => r.status)).toEqual([500, 200, 200]);
    expect((await st.s.manage('GET', `/tokens/${t.id}`)).body.request_count).toBe(3);
  });

  it('revoking a token is effective on the very next request', async () => {
    const t = await st.issueToken();
    expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200);
    await st.s.manage('DELETE', `/tokens/${t.id}`);
    const res = await st.proxy('/v1/chat/completions', {
      ...json({ model: 'gpt-4o-mini', messages: [] }),
      token: t.token,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('invalid_api_key');
  });

  it('revoking all of a project’s tokens, or deactivating it, is effective on the very next request', async () => {
    const p = await st.addProject('limits-project');
    const second = await (async () => {
      const r = await st.s.manage('POST', '/tokens', { project_id: p.projectId });
      return r.body as { id: string; token: string };
    })();
    for (const tok of [p.token, second.token]) expect((await st.proxy('/v1/models', { token: tok })).status).toBe(200);
    expect((await st.s.manage('POST', `/projects/${p.projectId}/tokens/revoke`)).status).toBeLessThan(300);
    for (const tok of [p.token, second.token]) expect((await st.proxy('/v1/models', { token: tok })).status).toBe(401);

    const q = await st.addProject('limits-project-2');
    expect((await st.proxy('/v1/models', { token: q.token })).status).toBe(200);
    await st.s.manage('PATCH', `/projects/${q.projectId}`, { is_active: false });
    expect((await st.proxy('/v1/models', { token: q.token })).status).toBe(401);

    const r = await st.addProject('limits-project-3');
    expect((await st.proxy('/v1/models', { token: r.token })).status).toBe(200);
    await st.s.manage('PATCH', `/projects/${r.projectId}`, { revoke_tokens: true });
    expect((await st.proxy('/v1/models', { token: r.token })).status).toBe(401);
  });

  it('a changed upstream key is used from the very next request', async () => {
    const p = await st.addProject('rekeyed');
    expect((await st.proxy('/v1/models', { token: p.token })).status).toBe(200);
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { api_key: 'sk-wrong-key-for-the-mock-0000' });
    const res = await st.proxy('/v1/models', { token: p.token });
    expect(res.status).toBe(401); // the upstream's own refusal of the new (wrong) key, passed through
    expect(st.mock.requests().at(-1)?.headers.authorization).toBe('Bearer sk-wrong-key-for-the-mock-0000');
  });
});
