import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/clock.js';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

// Expiry is tested by moving the server's clock, not by sleeping: on a busy machine the requests
// before the sleep could outlast a short expiry.
const clock = manualClock();
let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack({ clock: clock.now });
});
afterAll(async () => st.stop());

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

/** Expects a 401 invalid_api_key in OpenAI's shape that never reached the upstream. */
async function expectRefused(res: Response, reason: RegExp, before: number): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.headers.get('x-llm-proxy-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const body = (await res.json()) as any;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
  expect(body.error.message).toMatch(reason);
  expect(st.mock.stats().requests).toBe(before);
}

describe('proxy: authentication', () => {
  it('a missing token is refused', async () => {
    const before = st.mock.stats().requests;
    await expectRefused(await st.proxy('/v1/models', { token: null }), /didn't provide an API key/, before);
    await expectRefused(
      await st.proxy('/v1/models', { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      /didn't provide an API key/,
      before,
    );
    await expectRefused(
      await st.proxy('/v1/chat/completions', { ...json(chatBody), token: null }),
      /didn't provide an API key/,
      before,
    );
  });

  it('an unknown token is refused, and its text is not echoed back', async () => {
    const before = st.mock.stats().requests;
    const bogus = 'sk-llmp-this-token-does-not-exist-anywhere-000000';
    const res = await st.proxy('/v1/chat/completions', { ...json(chatBody), token: bogus });
    const text = await res.clone().text();
    expect(text).not.toContain(bogus);
    await expectRefused(res, /not known/, before);
    // The upstream key itself is not a proxy token either.
    await expectRefused(
      await st.proxy('/v1/models', { token: 'sk-upstream-real-key-4f1c9d2e7a' }),
      /not known/,
      before,
    );
  });

  it('the official client gets an AuthenticationError', async () => {
    const err = await st
      .clientFor('sk-llmp-nope')
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
  });

  it('the api-key header works like Authorization: Bearer', async () => {
    const res = await st.proxy('/v1/models', { token: null, headers: { 'api-key': st.token } });
    expect(res.status).toBe(200);
    const up = st.mock.requests().at(-1);
    expect(up?.headers['api-key']).toBeUndefined();
    expect(up?.headers.authorization).toBe('Bearer sk-upstream-real-key-4f1c9d2e7a');
    const before = st.mock.stats().requests;
    await expectRefused(
      await st.proxy('/v1/models', { token: null, headers: { 'api-key': 'sk-llmp-wrong' } }),
      /not known/,
      before,
    );
  });

  it('an expired token is refused even while cached: expiry set at creation, or shortened later', async () => {
    const a = await st.issueToken({ expires_at: new Date(clock.now() + 1500).toISOString() });
    const b = await st.issueToken();
    for (const t of [a, b]) expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200); // cached now
    const patched = await st.s.manage('PATCH', `/tokens/${b.id}`, {
      expires_at: new Date(clock.now() + 1500).toISOString(),
    });
    expect(patched.status).toBe(200);
    expect((await st.proxy('/v1/models', { token: b.token })).status).toBe(200);
    clock.advance(1499);
    for (const t of [a, b]) expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200);
    clock.advance(1);
    const before = st.mock.stats().requests;
    for (const t of [a, b]) await expectRefused(await st.proxy('/v1/models', { token: t.token }), /expired/, before);
  });

  it('a revoked token is refused', async () => {
    const t = await st.issueToken();
    expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200);
    expect((await st.s.manage('DELETE', `/tokens/${t.id}`)).status).toBeLessThan(300);
    const before = st.mock.stats().requests;
    await expectRefused(await st.proxy('/v1/models', { token: t.token }), /revoked/, before);
    await expectRefused(
      await st.proxy('/v1/chat/completions', { ...json(chatBody), token: t.token }),
      /revoked/,
      before,
    );
  });

  it('a token of an inactive project is refused; reactivating the project restores it', async () => {
    const p = await st.addProject('to-deactivate');
    expect((await st.proxy('/v1/models', { token: p.token })).status).toBe(200);
    expect((await st.s.manage('PATCH', `/projects/${p.projectId}`, { is_active: false })).status).toBe(200);
    const before = st.mock.stats().requests;
    await expectRefused(await st.proxy('/v1/models', { token: p.token }), /project is inactive/, before);
    expect((await st.s.manage('PATCH', `/projects/${p.projectId}`, { is_active: true })).status).toBe(200);
    expect((await st.proxy('/v1/models', { token: p.token })).status).toBe(200);
  });

  it('a token of a deleted project is refused', async () => {
    const p = await st.addProject('to-delete');
    expect((await st.proxy('/v1/models', { token: p.token })).status).toBe(200);
    expect((await st.s.manage('DELETE', `/projects/${p.projectId}`)).status).toBeLessThan(300);
    const before = st.mock.stats().requests;
    await expectRefused(await st.proxy('/v1/models', { token: p.token }), /not known/, before);
  });

  it('refusals write no usage records and do not count against the token', async () => {
    const t = await st.issueToken({ max_requests: 5 });
    await st.s.manage('DELETE', `/tokens/${t.id}`);
    for (let i = 0; i < 3; i++) expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(401);
    expect(await st.usage(t.id)).toEqual([]);
    expect((await st.s.manage('GET', `/tokens/${t.id}`)).body.request_count).toBe(0);
  });
});
