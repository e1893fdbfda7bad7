import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { slowUpload } from '../helpers/slow-client.js';

const IDLE_MS = 200;

const TIMED_OUT = {
  error: {
    message: `No request body data arrived for ${IDLE_MS} ms; the request was cancelled.`,
    type: 'invalid_request_error',
    code: 'request_body_timeout',
    param: null,
  },
};

describe('proxy: request-body idle timeout (PROXY_BODY_IDLE_TIMEOUT_MS)', () => {
  let st: ProxyStack;
  const gate = () => st.s.server.runtime.pools.get(new URL(st.mock.url).origin).gate;
  beforeAll(async () => {
    st = await startProxyStack({ env: { PROXY_BODY_IDLE_TIMEOUT_MS: String(IDLE_MS) } });
  });
  afterAll(async () => st.stop());
  beforeEach(() => st.mock.reset());

  // The client writes 10 bytes of its body and then nothing: the timeout is the only way this ends.
  for (const chunked of [false, true]) {
    it(`a ${chunked ? 'chunked' : 'declared-length'} upload that stalls on its way upstream gets 408, the upstream request is cancelled and the record says so`, async () => {
      const t = await st.issueToken();
      const res = await slowUpload(st, '/v1/embeddings', { token: t.token, chunked });
      expect(res.status).toBe(408);
      expect(JSON.parse(res.body)).toEqual(TIMED_OUT);
      expect(res.headers.connection).toBe('close');
      expect(res.closed).toBe(true);
      // It had reached the upstream (a slot was held); the slot is free again.
      expect(st.mock.stats().requests).toBe(1);
      expect(gate().active).toBe(0);
      const [rec] = await st.waitUsage(t.id, 1);
      expect(rec).toMatchObject({ path: '/v1/embeddings', status: 408, error: 'request_body_timeout', bytes_in: 10 });
    });
  }

  it('a body the proxy reads before forwarding (a chat completion) is refused with 408 and never forwarded', async () => {
    const t = await st.issueToken();
    const res = await slowUpload(st, '/v1/chat/completions', { token: t.token });
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual(TIMED_OUT);
    expect(res.closed).toBe(true);
    expect(st.mock.stats().requests).toBe(0);
    expect(gate().active).toBe(0);
    // Refused before admission: logged, not counted, no usage record.
    await until(() => st.s.logs().includes('"code":"request_body_timeout"'));
    expect(await st.usage(t.id)).toEqual([]);
  });

  it('a complete body is not cut while the upstream takes longer than the timeout to answer', async () => {
    for (const path of ['/v1/embeddings', '/v1/chat/completions']) {
      const r = await st.proxy(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-latency-ms': String(IDLE_MS * 3) },
        body: JSON.stringify({
          model: 'text-embedding-3-small',
          input: 'hello',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(r.status, path).toBe(200);
      await r.arrayBuffer();
    }
  });
});
