import tls from 'node:tls';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCa, testCa } from '../../benchmarks/tls-certs.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { normaliseIds, type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
/** Headers that differ between any two responses: times, ids, and the proxy's own timing. */
const VARYING = new Set(['date', 'x-request-id', 'x-llm-proxy-request-id', 'server-timing', 'openai-processing-ms']);

/** The body as the client received it (ids and times made comparable), and its headers' names and values. */
async function raw(res: Response) {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!VARYING.has(k)) headers[k] = v;
  });
  return { status: res.status, headers, body: normaliseIds(await res.text()) };
}

/**
 * A key with `http2: true` to a TLS upstream that speaks HTTP/2 (the mock upstream with a
 * certificate from a test CA the process trusts): the official client through the proxy gets the
 * same JSON and SSE, byte for byte, as through a key on the same upstream over HTTP/1.1, and the
 * upstream sees HTTP/2. A key with http2 on an upstream without TLS speaks HTTP/1.1.
 */
describe('HTTP/2 to the upstream, opt-in per key', () => {
  let ca: TestCa;
  let st: ProxyStack;
  let h2mock: MockUpstream;
  let over2: OpenAI;
  let over1: OpenAI;
  const defaultCas = tls.getCACertificates('default');

  const projectOn = async (name: string, baseUrl: string, http2: boolean) => {
    const p = await st.addProject(name, baseUrl);
    const keys = await st.s.manage('GET', `/projects/${p.projectId}/keys`);
    const keyId = keys.body.data[0].id as string;
    expect(keys.body.data[0].http2).toBe(false);
    if (http2) {
      const patched = await st.s.manage('PATCH', `/projects/${p.projectId}/keys/${keyId}`, { http2: true });
      expect(patched.status).toBe(200);
      expect(patched.body.http2).toBe(true);
    }
    return { ...p, keyId, client: st.clientFor(p.token) };
  };

  beforeAll(async () => {
    ca = testCa();
    const leaf = ca.issue('localhost');
    // The proxy's upstream connections trust the test CA (as an operator's NODE_EXTRA_CA_CERTS would).
    tls.setDefaultCACertificates([...defaultCas, ca.cert]);
    h2mock = await startMockUpstream({ apiKey: UPSTREAM_KEY, tls: { cert: leaf.cert, key: leaf.key } });
    st = await startProxyStack();
    const base = `${h2mock.url.replace('127.0.0.1', 'localhost')}/v1`;
    over2 = (await projectOn('h2', base, true)).client;
    over1 = (await projectOn('h1', base, false)).client;
  });
  afterAll(async () => {
    await st?.stop();
    await h2mock?.close();
    tls.setDefaultCACertificates(defaultCas);
    ca?.close();
  });

  it('sends JSON and SSE over HTTP/2 byte-identical to HTTP/1.1, and the upstream sees HTTP/2', async () => {
    h2mock.reset();
    const json2 = await raw(await over2.chat.completions.create(CHAT).asResponse());
    const json1 = await raw(await over1.chat.completions.create(CHAT).asResponse());
    expect(json2.status).toBe(200);
    expect(json2.body).toContain('"object":"chat.completion"');
    expect(json2).toEqual(json1);

    const streamed = { ...CHAT, stream: true as const, stream_options: { include_usage: true } };
    const sse2 = await raw(await over2.chat.completions.create(streamed).asResponse());
    const sse1 = await raw(await over1.chat.completions.create(streamed).asResponse());
    expect(sse2.headers['content-type']).toContain('text/event-stream');
    expect(sse2.body).toContain('data: [DONE]');
    expect(sse2).toEqual(sse1);

    // The official client's own parsing, over HTTP/2: a whole answer and a whole stream.
    const reply = await over2.chat.completions.create(CHAT);
    expect(reply.choices[0]?.message.content).toBeTruthy();
    let chunks = 0;
    for await (const _ of await over2.chat.completions.create(streamed)) chunks++;
    expect(chunks).toBeGreaterThan(1);

    expect(h2mock.requests().map((r) => r.httpVersion)).toEqual(['2.0', '1.1', '2.0', '1.1', '2.0', '2.0']);
    // Its own pool: HTTP/2 requests to the origin are not counted with the HTTP/1.1 ones.
    const origins = st.s.server.runtime.pools.stats().map((u) => u.origin);
    expect(origins).toEqual(expect.arrayContaining([new URL(h2mock.url.replace('127.0.0.1', 'localhost')).origin]));
    expect(origins.some((o) => o.startsWith('h2 https://localhost:'))).toBe(true);
  });

  it('speaks HTTP/1.1 to an upstream without TLS, whatever the key says', async () => {
    st.mock.reset();
    const plain = await projectOn('plain-h2', `${st.mock.url}/v1`, true);
    const reply = await plain.client.chat.completions.create(CHAT);
    expect(reply.object).toBe('chat.completion');
    expect(st.mock.requests().map((r) => r.httpVersion)).toEqual(['1.1']);
  });

  it('a request failed over from another key to an HTTP/2 key goes over HTTP/2', async () => {
    const limited = await startMockUpstream({ apiKey: UPSTREAM_KEY, errorStatus: 429 });
    try {
      const p = await st.addProject('failover-to-h2', `${limited.url}/v1`);
      const added = await st.s.manage('POST', `/projects/${p.projectId}/keys`, {
        name: 'h2',
        api_key: UPSTREAM_KEY,
        base_url: `${h2mock.url.replace('127.0.0.1', 'localhost')}/v1`,
      });
      expect(added.status).toBe(201);
      const patched = await st.s.manage('PATCH', `/projects/${p.projectId}/keys/${added.body.id}`, { http2: true });
      expect(patched.status).toBe(200);
      h2mock.reset();
      const client = st.clientFor(p.token);
      // The balancer picks at random: send until one request was tried on the rate-limited key first.
      for (let i = 0; i < 60 && limited.stats().requests === 0; i++) {
        expect((await client.chat.completions.create(CHAT)).object).toBe('chat.completion');
      }
      expect(limited.stats().requests).toBe(1);
      const versions = h2mock.requests().map((r) => r.httpVersion);
      expect(versions.length).toBeGreaterThan(0);
      expect(new Set(versions)).toEqual(new Set(['2.0']));
    } finally {
      await limited.close();
    }
  });

  it('records the setting in the audit trail', async () => {
    const p = await projectOn('audited', `${st.mock.url}/v1`, true);
    const events = await st.s.manage('GET', `/audit?target_id=${p.projectId}&limit=10`);
    expect(events.status).toBe(200);
    const updated = events.body.data.find((e: { action: string }) => e.action === 'project.key_updated');
    expect(updated?.changes).toEqual({ before: { http2: false }, after: { http2: true } });
  });
});
