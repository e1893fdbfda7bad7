import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { dripUpload } from '../helpers/slow-client.js';

const TOTAL_MS = 1000;

const TOO_SLOW = {
  error: {
    message: `The request body did not arrive in full within ${TOTAL_MS} ms; the request was cancelled.`,
    type: 'invalid_request_error',
    code: 'request_body_timeout',
    param: null,
  },
};

/** The value of each /metrics sample whose line starts with `name{` and holds every label given. */
async function samples(st: ProxyStack, name: string, labels: Record<string, string> = {}): Promise<number[]> {
  const res = await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } });
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('proxy: request-body total timeout (PROXY_BODY_TIMEOUT_MS)', () => {
  let st: ProxyStack;
  const gate = () => st.s.server.runtime.pools.get(new URL(st.mock.url).origin).gate;
  beforeAll(async () => {
    // The drip below (10 bytes every 50 ms) never pauses for the idle timeout: only the total one can end it.
    st = await startProxyStack({
      env: { PROXY_BODY_TIMEOUT_MS: String(TOTAL_MS), PROXY_BODY_IDLE_TIMEOUT_MS: '5000' },
    });
  });
  afterAll(async () => st.stop());
  beforeEach(() => st.mock.reset());

  // A client on a bad link uploads a file 10 bytes at a time: the body keeps moving, so only the
  // total bound cuts it. It stops after 4000 bytes (20 s): then only the idle timeout would.
  for (const chunked of [false, true]) {
    it(`a ${chunked ? 'chunked' : 'declared-length'} upload slower than the bound gets 408, the client's fault in the record and the metrics`, async () => {
      const t = await st.issueToken();
      const files4xx = sum(await samples(st, 'llm_proxy_requests_total', { family: 'files', status_class: '4xx' }));
      const res = await dripUpload(st, '/v1/files', {
        token: t.token,
        type: 'multipart/form-data; boundary=x',
        declared: chunked ? undefined : 100_000,
        maxBytes: 4000,
      });
      expect(res.status).toBe(408);
      expect(JSON.parse(res.body)).toEqual(TOO_SLOW);
      // Final: the same upload over the same link would take as long again.
      expect(res.headers['x-should-retry']).toBe('false');
      expect(res.headers.connection).toBe('close');
      expect(res.closed).toBe(true);
      // It had reached the upstream (the body is piped); the request there is cancelled, the slot free.
      expect(st.mock.stats().requests).toBe(1);
      expect(gate().active).toBe(0);
      const [rec] = await st.waitUsage(t.id, 1);
      expect(rec).toMatchObject({ path: '/v1/files', status: 408, error: 'request_body_timeout' });
      // What arrived, not what was declared.
      expect(rec?.bytes_in).toBeGreaterThan(0);
      expect(rec?.bytes_in).toBeLessThanOrEqual(res.sent);
      // In the metrics a 4xx request (the metrics hook ran with the record), never an upstream failure.
      expect(sum(await samples(st, 'llm_proxy_requests_total', { family: 'files', status_class: '4xx' }))).toBe(
        files4xx + 1,
      );
      expect(await samples(st, 'llm_proxy_requests_total', { family: 'files', status_class: '5xx' })).toEqual([]);
      expect(await samples(st, 'llm_proxy_upstream_errors_total')).toEqual([]);
    });
  }

  it('a body the proxy reads before forwarding (a chat completion) is refused with 408 and never forwarded', async () => {
    const t = await st.issueToken();
    const res = await dripUpload(st, '/v1/chat/completions', {
      token: t.token,
      type: 'application/json',
      declared: 100_000,
      maxBytes: 4000,
    });
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual(TOO_SLOW);
    expect(st.mock.stats().requests).toBe(0);
    // Refused before admission: logged, counted as a refusal, no usage record.
    await until(() => st.s.logs().includes('"code":"request_body_timeout"'));
    expect(await samples(st, 'llm_proxy_refusals_total', { reason: 'request_body_timeout' })).toEqual([1]);
    expect(await st.usage(t.id)).toEqual([]);
  });

  it('bounds only the body: a complete one waits for an upstream that takes longer than the bound', async () => {
    for (const path of ['/v1/embeddings', '/v1/chat/completions']) {
      const r = await st.proxy(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-latency-ms': String(TOTAL_MS * 3) },
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
