/**
 * GET /manage/usage/records/{id}: what the proxy recorded for one request, found by the request id
 * it answered with, for any role that may read usage (what "Try it" shows for a pasted token).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { signedIn, withSession } from '../helpers/session.js';

describe('one usage record by request id', () => {
  let st: ProxyStack;

  beforeAll(async () => {
    // The writer keeps records for a minute unless flushed: a record asked for is one not written yet.
    st = await startProxyStack({ env: { USAGE_FLUSH_INTERVAL_MS: '60000' } });
  });
  afterAll(async () => st?.stop());

  /** The record of a response, asked for as "Try it" asks: waiting for the writer. */
  const recordOf = (requestId: string) => st.s.manage('GET', `/usage/records/${requestId}?wait_ms=10000`);

  it('answers with the token, model, counts, cost and timings of the request', async () => {
    const res = await st.proxy('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const reply = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const id = res.headers.get('x-llm-proxy-request-id') as string;
    // Not written yet: at once, 404; asked to wait, the writer is flushed and the record answers.
    expect((await st.s.manage('GET', `/usage/records/${id}`)).status).toBe(404);
    const r = await recordOf(id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id,
      token_id: st.tokenId,
      project_id: st.projectId,
      project_name: 'main',
      method: 'POST',
      path: '/v1/chat/completions',
      model: 'gpt-4o-mini',
      status: 200,
      stream: false,
      prompt_tokens: reply.usage.prompt_tokens,
      completion_tokens: reply.usage.completion_tokens,
      usage_status: 'reported',
      error: null,
    });
    const stored = (await st.usage()).find((u) => u.id === id);
    expect(r.body.cost_nano_usd).toBe(stored?.cost_nano_usd);
    expect(r.body.cost_usd).toBe(`0.${String(stored?.cost_nano_usd).padStart(9, '0')}`);
    expect(r.body.cost_micro_usd).toBe(Math.round((stored?.cost_nano_usd ?? 0) / 1000));
    expect(Date.parse(r.body.created_at)).toBe(stored?.created_at);
  });

  it('is readable by a viewer, refused without credentials, and 404 for an unknown id', async () => {
    const res = await st.proxy('/v1/models');
    const id = res.headers.get('x-llm-proxy-request-id') as string;
    expect((await recordOf(id)).body).toMatchObject({ method: 'GET', path: '/v1/models', cost_usd: null });

    await st.s.manage('POST', '/users', { username: 'vera', role: 'viewer', password: 'a-viewer-password-1' });
    const vera = await signedIn(st.s.url, { username: 'vera', password: 'a-viewer-password-1' });
    const asViewer = await withSession(st.s.url, vera, 'GET', `/usage/records/${id}`);
    expect(asViewer.status).toBe(200);
    expect(asViewer.body.id).toBe(id);

    const anonymous = await fetch(`${st.s.url}/manage/usage/records/${id}`);
    expect(anonymous.status).toBe(401);

    const unknown = await st.s.manage('GET', '/usage/records/01a2b3c4-0000-7000-8000-000000000000?wait_ms=300');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});
