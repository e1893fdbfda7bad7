import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { rawPost } from '../helpers/slow-client.js';

const LIMIT = 1024;
let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack({ env: { PROXY_BODY_LIMIT_BYTES: String(LIMIT) } });
});
afterAll(async () => st.stop());

const TOO_LARGE = {
  error: {
    message: `Request body exceeds the limit of ${LIMIT} bytes.`,
    type: 'invalid_request_error',
    code: 'request_too_large',
    param: null,
  },
};

/** node:http POST whose body is written in pieces, with a declared length or chunked. */
function post(
  path: string,
  pieces: Buffer[],
  opts: { chunked?: boolean; token?: string } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const length = pieces.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = rawPost(
      st,
      path,
      { token: opts.token, type: 'application/json', length: opts.chunked ? undefined : length },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    (async () => {
      for (const p of pieces) {
        if (!req.write(p)) await new Promise((r) => req.once('drain', r));
        await new Promise((r) => setTimeout(r, 5));
      }
      req.end();
    })().catch(reject);
  });
}

describe('proxy: bad input', () => {
  it('malformed JSON is forwarded unchanged and the upstream’s 400 comes back unchanged', async () => {
    for (const raw of [
      '{"model": "gpt-4o-mini", "messages": [',
      '{"stream": true, "model": ',
      'not json at all',
      '[1,2]',
    ]) {
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw };
      const via = await st.proxy('/v1/chat/completions', init);
      const up = st.mock.requests().at(-1);
      expect(up?.bodyBytes, raw).toBe(Buffer.byteLength(raw));
      expect(up?.headers['content-length']).toBe(String(Buffer.byteLength(raw)));
      const direct = await st.direct('/v1/chat/completions', init);
      expect(via.status, raw).toBe(400);
      expect(await via.text()).toBe(await direct.text());
      expect((await st.recordOf(via)).status).toBe(400);
    }
  });

  it('a declared body over PROXY_BODY_LIMIT_BYTES gets 413 without contacting the upstream', async () => {
    const t = await st.issueToken();
    const before = st.mock.stats().requests;
    const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', input: 'x'.repeat(2048) }));
    const res = await st.proxy('/v1/embeddings', {
      method: 'POST',
      token: t.token,
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(TOO_LARGE);
    expect(st.mock.stats().requests).toBe(before);
    // A refusal: no usage record, no use of the token.
    expect(await st.usage(t.id)).toEqual([]);

    // Written slowly in pieces (the refusal comes before the body is complete): still a clean 413.
    const slow = await post('/v1/embeddings', [body.subarray(0, 1000), body.subarray(1000)]);
    expect(slow.status).toBe(413);
    expect(JSON.parse(slow.body)).toEqual(TOO_LARGE);
    expect(slow.headers.connection).toBe('close');
    expect(st.mock.stats().requests).toBe(before);
  });

  it('a 2 MB declared body is refused cleanly too (answered, not reset)', async () => {
    const before = st.mock.stats().requests;
    const pieces = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x20));
    const res = await post('/v1/chat/completions', pieces);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(TOO_LARGE);
    expect(st.mock.stats().requests).toBe(before);
  });

  it('a body of exactly the limit is forwarded', async () => {
    const head = '{"model":"text-embedding-3-small","input":"';
    const body = `${head}${'a'.repeat(LIMIT - head.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    const res = await st.proxy('/v1/embeddings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(st.mock.requests().at(-1)?.bodyBytes).toBe(LIMIT);
  });

  it('a chunked body over the limit is cut off with 413', async () => {
    const t = await st.issueToken();
    const pieces = [Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x62), Buffer.alloc(600, 0x63)];
    const res = await post('/v1/chat/completions', pieces, { chunked: true, token: t.token });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(TOO_LARGE);
    // Its length was unknown up front, so it was on its way upstream: it counts and is recorded.
    const [rec] = await st.waitUsage(t.id, 1);
    expect(rec).toMatchObject({ status: 413, error: 'request_too_large' });
    expect(rec?.bytes_in).toBeGreaterThan(LIMIT);
    expect(rec?.bytes_in).toBeLessThanOrEqual(1800);
  });

  it('a chunked body under the limit is forwarded as sent', async () => {
    const json = JSON.stringify({ model: 'text-embedding-3-small', input: 'z'.repeat(500) });
    const buf = Buffer.from(json);
    const res = await post('/v1/embeddings', [buf.subarray(0, 100), buf.subarray(100, 300), buf.subarray(300)], {
      chunked: true,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).usage).toEqual({ prompt_tokens: 125, total_tokens: 125 });
    const up = st.mock.requests().at(-1);
    expect(up?.bodyBytes).toBe(buf.length);
    expect(up?.headers['transfer-encoding']).toBe('chunked');
    expect(up?.headers['content-length']).toBeUndefined();
  });
});
