import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ended, json, type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';

let st: ProxyStack;
let slow: ProxyStack; // short upstream timeouts
beforeAll(async () => {
  [st, slow] = await Promise.all([
    startProxyStack(),
    startProxyStack({ env: { UPSTREAM_HEADERS_TIMEOUT_MS: '300', UPSTREAM_IDLE_TIMEOUT_MS: '300' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([st?.stop(), slow?.stop()]);
});

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] };

describe('proxy: upstream errors', () => {
  it.each([400, 401, 404, 429, 500, 503])(
    'upstream %i: status, body and headers passed through unchanged',
    async (status) => {
      const headers = { 'x-mock-status': String(status) };
      const via = await st.proxy('/v1/chat/completions', json(chatBody, headers));
      const direct = await st.direct('/v1/chat/completions', json(chatBody, headers));
      expect(via.status).toBe(status);
      expect(direct.status).toBe(status);
      const body = Buffer.from(await via.arrayBuffer());
      expect(body.equals(Buffer.from(await direct.arrayBuffer()))).toBe(true);
      expect(JSON.parse(body.toString()).error).toHaveProperty('message');
      expect(via.headers.get('content-type')).toBe('application/json');
      expect(via.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
      if (status === 429) {
        expect(via.headers.get('retry-after')).toBe('1');
        expect(via.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      }
      expect(await st.recordOf(via)).toMatchObject({ status, error: null, is_stream: 0, bytes_out: body.length });
    },
  );

  it('the official client sees the upstream’s error as OpenAI would report it', async () => {
    const err = await st.client.chat.completions
      .create(chatBody as any, { headers: { 'x-mock-status': '429' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
  });

  it('an unreachable upstream gives 502 upstream_unavailable in OpenAI’s error shape', async () => {
    const port = await closedPort();
    const down = await st.addProject('down', `http://127.0.0.1:${port}`);
    for (const [path, init] of [
      ['/v1/models', {}],
      ['/v1/chat/completions', json(chatBody)],
    ] as const) {
      const res = await st.proxy(path, { ...init, token: down.token });
      expect(res.status, path).toBe(502);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        error: {
          message: 'The upstream API could not be reached: ECONNREFUSED.',
          type: 'upstream_error',
          code: 'upstream_unavailable',
          param: null,
        },
      });
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(res.headers.get('x-llm-proxy-request-id')).toBeTruthy();
      expect(await st.recordOf(res, down.id)).toMatchObject({
        path,
        status: 502,
        error: 'upstream_unavailable',
        upstream_ms: null,
      });
    }
    const err = await st
      .clientFor(down.token)
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: 'upstream_unavailable' });
  });

  it('an upstream that does not send headers in time gives 504 upstream_timeout', async () => {
    const res = await slow.proxy('/v1/chat/completions', json(chatBody, { 'x-mock-latency-ms': '2000' }));
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({
      error: {
        message: 'The upstream API did not answer in time (waiting for response headers).',
        type: 'upstream_error',
        code: 'upstream_timeout',
        param: null,
      },
    });
    expect(await slow.recordOf(res)).toMatchObject({ status: 504, error: 'upstream_timeout' });
    // Quick answers on the same proxy are unaffected.
    expect((await slow.proxy('/v1/models')).status).toBe(200);
  });

  it('an upstream that goes quiet mid-stream is cut off: the stream ends early, recorded as upstream_idle_timeout', async () => {
    slow.mock.reset();
    const res = await slow.proxy(
      '/v1/chat/completions',
      json({ ...chatBody, stream: true }, { 'x-mock-chunks': '5', 'x-mock-chunk-delay-ms': '1500' }),
    );
    expect(res.status).toBe(200);
    let received = '';
    let failed = false;
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) received += Buffer.from(c).toString();
    } catch {
      failed = true; // the proxy resets the connection: the client learns the body is incomplete
    }
    expect(failed).toBe(true);
    expect(received).toContain('"role":"assistant"');
    expect(received).not.toContain('[DONE]');
    const rec = await slow.recordOf(res);
    expect(rec).toMatchObject({ status: 200, is_stream: 1, error: 'upstream_idle_timeout' });
    expect(rec.bytes_out).toBe(Buffer.byteLength(received));
    // The proxy dropped its upstream connection too.
    await until(() => ended(slow) === 1); // aborted, or (5 × 1.5 s) completed
    expect(slow.mock.stats()).toMatchObject({ abortedStreams: 1, completedStreams: 0 });
  });
});
