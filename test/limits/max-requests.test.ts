import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { burst, chatBody, postJson, tally } from './helpers.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

const BODY = chatBody('gpt-4o-mini', 'count me');
const chat = (token: string) => postJson(st, '/v1/chat/completions', token, BODY);

async function newProject(name: string, limits: Record<string, unknown>) {
  const p = await st.addProject(name);
  const patched = await st.s.manage('PATCH', `/projects/${p.projectId}`, limits);
  expect(patched.status).toBe(200);
  const second = await st.s.manage('POST', '/tokens', { project_id: p.projectId });
  expect(second.status).toBe(201);
  return {
    projectId: p.projectId,
    a: { id: p.id, token: p.token },
    b: { id: second.body.id, token: second.body.token },
  };
}

describe('limits: max_requests is exact under concurrency', () => {
  it('a token with max_requests 73 serves exactly 73 of 300 concurrent requests', async () => {
    const t = await st.issueToken({ max_requests: 73 });
    const before = st.mock.stats().requests;
    const out = await burst(300, () => chat(t.token));
    expect(tally(out)).toEqual({ '200': 73, '429 request_limit_reached': 227 });
    expect(st.mock.stats().requests - before).toBe(73);
    // A spent request cap has no time after which a retry helps: no Retry-After.
    const refused = out.find((o) => o.status === 429);
    expect(refused?.headers.get('retry-after')).toBeNull();
    expect(refused?.body.error).toEqual({
      message: 'This token has used all of its 73 requests.',
      type: 'rate_limit_error',
      code: 'request_limit_reached',
      param: null,
    });
    expect(await st.waitUsage(t.id, 73)).toHaveLength(73);
    expect((await st.s.manage('GET', `/tokens/${t.id}`)).body).toMatchObject({
      request_count: 73,
      status: 'exhausted',
    });
  });

  it("a project's max_requests is a ceiling over all of its tokens: exactly 61 of 300 across two tokens", async () => {
    const p = await newProject('cap-ceiling', { max_requests: 61 });
    const before = st.mock.stats().requests;
    const out = await burst(300, (i) => chat(i % 2 ? p.a.token : p.b.token));
    expect(tally(out)).toEqual({ '200': 61, '429 request_limit_reached': 239 });
    expect(st.mock.stats().requests - before).toBe(61);
    expect(out.find((o) => o.status === 429)?.body.error.message).toBe(
      "This token's project has used all of its 61 requests.",
    );
    // Every admitted request was accounted for before its response ended: one usage record each.
    expect((await st.usage(p.a.id)).length + (await st.usage(p.b.id)).length).toBe(61);
    expect((await st.s.manage('GET', `/projects/${p.projectId}`)).body.request_count).toBe(61);
  });

  it('token and project caps together: the tighter one wins, and a refusal charges nothing', async () => {
    // Project cap 3, token A cap 5: A gets 3. Raising the project cap must leave A exactly 2 more,
    // which holds only if the project's refusals did not consume A's own count.
    const p = await newProject('cap-both', { max_requests: 3 });
    await st.s.manage('PATCH', `/tokens/${p.a.id}`, { max_requests: 5 });
    expect(tally(await burst(40, () => chat(p.a.token)))).toEqual({ '200': 3, '429 request_limit_reached': 37 });
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { max_requests: 100 });
    expect(tally(await burst(40, () => chat(p.a.token)))).toEqual({ '200': 2, '429 request_limit_reached': 38 });
    // Token B was never capped itself and still has the project's room: 100 - 5 = 95.
    expect(tally(await burst(120, () => chat(p.b.token)))).toEqual({ '200': 95, '429 request_limit_reached': 25 });
  });
});
