import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, json, type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

/** A raw node:http request, so hop-by-hop headers are sent exactly as written. */
function rawRequest(
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(st.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: body === undefined ? 'GET' : 'POST', headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('proxy: header rules', () => {
  it('the upstream gets the project key, its own host, and no hop-by-hop headers', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const res = await rawRequest(
      '/v1/chat/completions',
      {
        authorization: `Bearer ${st.token}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        connection: 'keep-alive, x-custom-hop',
        'x-custom-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
        'proxy-connection': 'keep-alive',
        'x-end-to-end': 'kept',
      },
      body,
    );
    expect(res.status).toBe(200);
    const up = st.mock.requests().at(-1);
    expect(up?.path).toBe('/v1/chat/completions');
    const h = up?.headers ?? {};
    expect(h.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(h.host).toBe(new URL(st.mock.url).host);
    for (const name of ['x-custom-hop', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection', 'api-key']) {
      expect(h[name], name).toBeUndefined();
    }
    expect(h.connection ?? '').not.toContain('x-custom-hop');
    expect(h['x-end-to-end']).toBe('kept');
    expect(h['content-type']).toBe('application/json');
    expect(h['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(up?.bodyBytes).toBe(Buffer.byteLength(body));
  });

  it('OpenAI-Beta, OpenAI-Organization, OpenAI-Project, Idempotency-Key and user headers pass through', async () => {
    const res = await st.proxy('/v1/models', {
      headers: {
        'OpenAI-Beta': 'assistants=v2',
        'OpenAI-Organization': 'org-abc123',
        'OpenAI-Project': 'proj_xyz',
        'Idempotency-Key': 'idem-42',
        'User-Agent': 'proxy-test/1.0',
        'X-Stainless-Lang': 'js',
      },
    });
    expect(res.status).toBe(200);
    const h = st.mock.requests().at(-1)?.headers ?? {};
    expect(h).toMatchObject({
      'openai-beta': 'assistants=v2',
      'openai-organization': 'org-abc123',
      'openai-project': 'proj_xyz',
      'idempotency-key': 'idem-42',
      'user-agent': 'proxy-test/1.0',
      'x-stainless-lang': 'js',
    });
  });

  it('upstream response headers come back, plus the proxy’s request id and Server-Timing', async () => {
    const res = await st.proxy('/v1/chat/completions', json({ model: 'gpt-4o-mini', messages: [] }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
    expect(res.headers.get('openai-version')).toBe('2020-10-01');
    expect(res.headers.get('openai-organization')).toBe('user-mock');
    for (const name of [
      'x-ratelimit-limit-requests',
      'x-ratelimit-limit-tokens',
      'x-ratelimit-remaining-requests',
      'x-ratelimit-remaining-tokens',
      'x-ratelimit-reset-requests',
      'x-ratelimit-reset-tokens',
    ]) {
      expect(res.headers.get(name), name).toMatch(/\S/);
    }
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
    const id = res.headers.get('x-llm-proxy-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const timing = res.headers.get('server-timing') ?? '';
    expect(timing).toMatch(/(^|, )proxy;dur=\d+(\.\d+)?(,|$)/);
    expect(timing).toMatch(/(^|, )upstream;dur=\d+(\.\d+)?(,|$)/);
    expect(res.headers.get('content-length')).toBe(String((await res.arrayBuffer()).byteLength));
    expect((await st.recordOf(res)).request_id).toBe(id);
  });

  it('SSE responses carry x-accel-buffering: no and no content-length', async () => {
    const res = await st.proxy(
      '/v1/chat/completions',
      json({ model: 'gpt-4o-mini', messages: [], stream: true }, { 'x-mock-chunks': '3' }),
    );
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('server-timing')).toContain('proxy;dur=');
    await res.text();
    // JSON responses are not marked.
    const plain = await st.proxy('/v1/models');
    expect(plain.headers.get('x-accel-buffering')).toBeNull();
  });

  it('the proxy’s own answers (refusals, upstream failures) carry a request id and Server-Timing too', async () => {
    const refused = await st.proxy('/v1/models', { token: 'sk-llmp-unknown' });
    expect(refused.status).toBe(401);
    const down = await st.addProject('headers-down', `http://127.0.0.1:${await closedPort()}`);
    const failed = await st.proxy('/v1/models', { token: down.token });
    expect(failed.status).toBe(502);
    for (const res of [refused, failed]) {
      expect(res.headers.get('x-llm-proxy-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get('server-timing')).toMatch(/^proxy;dur=\d+(\.\d+)?$/);
    }
  });

  it('the upstream never sees the proxy token, in any request made in this file', async () => {
    // Also via api-key and through the official client.
    await st.proxy('/v1/models', { token: null, headers: { 'api-key': st.token } });
    await st.client.models.list();
    const recorded = st.mock.requests();
    expect(recorded.length).toBeGreaterThanOrEqual(6);
    for (const r of recorded) {
      expect(JSON.stringify(r.headers)).not.toContain(st.token);
      expect(r.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    }
  });
});
