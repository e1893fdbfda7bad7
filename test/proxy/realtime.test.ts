import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockRealtimeUsage } from '../../src/mock-upstream/index.js';
import { readRealtimeUsage, realtimeCost } from '../../src/proxy/realtime/realtime-usage.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { RealtimeClient, refusedUpgrade } from '../helpers/realtime-client.js';

const MODEL = 'gpt-4o-realtime-preview';

describe('the Realtime API over WebSocket', () => {
  let st: ProxyStack;
  let wsUrl: string;

  beforeAll(async () => {
    st = await startProxyStack();
    wsUrl = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`;
  });
  afterAll(async () => {
    await st?.stop();
  });

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it('proxies a session with the real key and records each response and the session', async () => {
    const { id, token } = await st.issueToken();
    const c = await RealtimeClient.open(wsUrl, [], bearer(token));
    await c.event('session.created');
    c.send({ type: 'response.create' });
    await c.event('response.done');
    c.send({ type: 'response.create' });
    await c.event('response.done', 2);
    expect(c.count('response.output_audio.delta')).toBe(6);
    c.ws.close(1000, 'done');
    expect((await c.whenClosed()).code).toBe(1000);

    const mock = st.mock.realtimeSessions().at(-1);
    expect(mock?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(mock?.headers)).not.toContain(token);
    await until(() => mock?.closeCode === 1000);

    const rows = await st.waitUsage(id, 3);
    const responses = rows.filter((r) => r.status === 200);
    const session = rows.find((r) => r.status === 101);
    expect(responses).toHaveLength(2);
    const pricing = st.s.server.runtime.pricing;
    responses.forEach((r, i) => {
      const billed = mockRealtimeUsage(i + 1);
      const u = readRealtimeUsage(billed);
      expect(r).toMatchObject({
        path: '/v1/realtime',
        model: MODEL,
        is_stream: 1,
        prompt_tokens: billed.input_tokens,
        completion_tokens: billed.output_tokens,
        total_tokens: billed.total_tokens,
        cached_tokens: billed.input_token_details.cached_tokens,
        usage_status: 'reported',
        finish_reason: 'completed',
      });
      expect(r.cost_nano_usd).toBe(u && realtimeCost(pricing, MODEL, u));
      expect(r.cost_nano_usd).toBeGreaterThan(0);
    });
    // What the mock billed is what was recorded, response for response.
    expect(mock?.billed.map((b) => b.total_tokens)).toEqual(responses.map((r) => r.total_tokens));
    expect(session).toMatchObject({
      path: '/v1/realtime',
      total_tokens: 0,
      cost_nano_usd: 0,
      finish_reason: 'close_1000',
      error: null,
    });
    expect(session?.bytes_in).toBeGreaterThan(0);
    expect(session?.bytes_out).toBeGreaterThan(6 * 4800);
    expect(st.s.logs()).toMatch(/"realtime session ended"/);
  });

  it('takes the token as a browser subprotocol, which never reaches the upstream', async () => {
    const c = await RealtimeClient.open(wsUrl, ['realtime', `openai-insecure-api-key.${st.token}`]);
    expect(c.ws.protocol).toBe('realtime');
    await c.event('session.created');
    c.send({ type: 'response.create' });
    await c.event('response.done');
    c.ws.close();
    await c.whenClosed();
    const mock = st.mock.realtimeSessions().at(-1);
    expect(mock?.headers['sec-websocket-protocol']).toBe('realtime');
    expect(mock?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(mock)).not.toContain(st.token);
  });

  it('passes binary and large frames byte for byte, and pings end to end', async () => {
    const c = await RealtimeClient.open(wsUrl, [], bearer(st.token));
    await c.event('session.created');
    const small = randomBytes(100);
    const large = randomBytes(4 * 1024 * 1024);
    c.ws.send(small);
    c.ws.send(large);
    await c.until(() => c.binary.length === 2, 'the binary echoes');
    expect(c.binary[0]?.equals(small)).toBe(true);
    expect(c.binary[1]?.equals(large)).toBe(true);
    const text = JSON.stringify({ type: 'mock.echo', data: 'é'.repeat(1024 * 1024) });
    c.ws.send(text);
    await c.event('mock.echo');
    expect(c.texts.at(-1)).toBe(text);
    const pong = new Promise<Buffer>((resolve) => c.ws.once('pong', resolve));
    c.ws.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
    c.ws.close();
    await c.whenClosed();
  });

  it('honours close codes and reasons both ways', async () => {
    const a = await RealtimeClient.open(wsUrl, [], bearer(st.token));
    await a.event('session.created');
    a.ws.close(4321, 'client says bye');
    await a.whenClosed();
    const mockA = st.mock.realtimeSessions().at(-1);
    await until(() => mockA?.closeCode === 4321);

    const b = await RealtimeClient.open(wsUrl, [], bearer(st.token));
    await b.event('session.created');
    b.send({ type: 'mock.close', code: 4100, reason: 'upstream says bye' });
    expect(await b.whenClosed()).toEqual({ code: 4100, reason: 'upstream says bye' });
  });

  it('records what a response cut mid-way produced', async () => {
    const { id, token } = await st.issueToken();
    const c = await RealtimeClient.open(`${wsUrl}&mock_cut_response=1`, [], bearer(token));
    await c.event('session.created');
    c.send({ type: 'response.create' });
    const closed = await c.whenClosed();
    expect(closed.code).toBe(1011);
    const rows = await st.waitUsage(id, 2);
    const cut = rows.find((r) => r.status === 200);
    // Two audio and two transcript deltas went out before the cut.
    expect(cut).toMatchObject({ usage_status: 'estimated', completion_tokens: 4, error: 'upstream_unavailable' });
    expect(cut?.cost_nano_usd).toBeGreaterThan(0);
    expect(rows.find((r) => r.status === 101)).toMatchObject({ error: 'upstream_unavailable' });
  });

  it('closes a session with 4001 when its token is revoked', async () => {
    const { id, token } = await st.issueToken();
    const c = await RealtimeClient.open(wsUrl, [], bearer(token));
    await c.event('session.created');
    expect((await st.s.manage('DELETE', `/tokens/${id}`)).status).toBeLessThan(300);
    const closed = await c.whenClosed();
    expect(closed.code).toBe(4001);
    expect(closed.reason).toMatch(/revoked/);
    const mock = st.mock.realtimeSessions().at(-1);
    await until(() => mock?.closeCode !== undefined);
    const rows = await st.waitUsage(id, 1);
    expect(rows[0]).toMatchObject({ error: 'invalid_api_key', finish_reason: 'close_4001' });
  });

  it('closes a session with 4001 when its token expires while it is open', async () => {
    // The session opens with an hour to go, however slow the machine; then the token is moved to
    // expire a moment later, and the session's timer (set again by the change) fires at it.
    const { id, token } = await st.issueToken({ expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    const c = await RealtimeClient.open(wsUrl, [], bearer(token));
    await c.event('session.created');
    c.send({ type: 'response.create' });
    await c.event('response.done');
    const soon = new Date(Date.now() + 1_000).toISOString();
    expect((await st.s.manage('PATCH', `/tokens/${id}`, { expires_at: soon })).status).toBe(200);
    const closed = await c.whenClosed();
    expect(closed).toEqual({ code: 4001, reason: expect.stringMatching(/expired/) });
    const mock = st.mock.realtimeSessions().at(-1);
    await until(() => mock?.closeCode === 1000);
    const rows = await st.waitUsage(id, 2);
    expect(rows.find((r) => r.status === 101)).toMatchObject({ error: 'invalid_api_key', finish_reason: 'close_4001' });
  });

  it('closes a session with 4002 when the budget cannot cover the next response', async () => {
    // One response costs about $0.0026 and is reserved as 256 output tokens ($0.00512) at its start.
    const { id, token } = await st.issueToken({ budget_usd: 0.006 });
    const c = await RealtimeClient.open(wsUrl, [], bearer(token));
    await c.event('session.created');
    c.send({ type: 'response.create' });
    await c.event('response.done');
    c.send({ type: 'response.create' });
    const closed = await c.whenClosed();
    expect(closed.code).toBe(4002);
    expect(closed.reason).toMatch(/budget/i);
    const rows = await st.waitUsage(id, 2);
    expect(rows.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rows.find((r) => r.status === 101)).toMatchObject({ error: 'budget_exceeded' });
  });

  it('holds a concurrency slot while a session is open and gives it back at close', async () => {
    const { id, token } = await st.issueToken({ max_concurrent: 1 });
    const first = await RealtimeClient.open(wsUrl, [], bearer(token));
    await first.event('session.created');
    const refused = await refusedUpgrade(wsUrl, { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.code).toBe('concurrency_limit_exceeded');
    first.ws.close();
    await first.whenClosed();
    await st.waitUsage(id, 1);
    const again = await RealtimeClient.open(wsUrl, [], bearer(token));
    await again.event('session.created');
    again.ws.close();
    await again.whenClosed();
  });

  it('refuses a bad token and any other upgrade with the catalogue error', async () => {
    const bad = await refusedUpgrade(wsUrl, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body).error.code).toBe('invalid_api_key');
    const none = await refusedUpgrade(wsUrl);
    expect(none.status).toBe(401);
    const badProtocol = await refusedUpgrade(wsUrl, {}, ['realtime', 'openai-insecure-api-key.nope']);
    expect(badProtocol.status).toBe(401);
    const other = await refusedUpgrade(`${st.url.replace(/^http/, 'ws')}/v1/chat/completions`, {
      authorization: `Bearer ${st.token}`,
    });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.body).error.message).toMatch(/only at \/v1\/realtime/);
    // A plain request with another Upgrade (curl --http2 over http://) is served as HTTP/1.1.
    const res = await fetch(`${st.url}/v1/models`, { headers: { authorization: `Bearer ${st.token}` } });
    expect(res.status).toBe(200);
  });

  it('passes POST /v1/realtime/client_secrets and /v1/realtime/calls through like any request', async () => {
    for (const path of ['/v1/realtime/client_secrets', '/v1/realtime/calls']) {
      const res = await st.proxy(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session: { type: 'realtime', model: MODEL } }),
      });
      // The mock does not serve them: its own 404 comes back through the proxy.
      expect(res.status).toBe(404);
      expect(st.mock.requests().at(-1)).toMatchObject({ method: 'POST', path });
      expect(st.mock.requests().at(-1)?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    }
  });
});
